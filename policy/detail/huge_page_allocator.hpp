#pragma once
// An allocator for the engine's big lookup tables (issue 2: 100k tracker domains within 1.5x of 1k).
// With 100k domains a lookup touches a few random lines of several megabytes of tables; on 4 KiB pages
// each of those is also a TLB miss and a page walk. Blocks of 2 MiB or more are aligned to 2 MiB and
// offered to the kernel for transparent huge pages (madvise: a hint, not I/O; ignored where unsupported),
// so the tables of one Engine fit in a handful of TLB entries. Smaller blocks use operator new.
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace consent::policy::detail {

inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() noexcept = default;
  template <class U>
  explicit HugePageAllocator(const HugePageAllocator<U>& /*unused*/) noexcept {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < huge_page_bytes) return static_cast<T*>(::operator new(bytes));
    const std::size_t rounded = (bytes + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
    void* p = std::aligned_alloc(huge_page_bytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
    (void)::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }

  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < huge_page_bytes) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>& /*unused*/) const noexcept {
    return true;
  }
};

}  // namespace consent::policy::detail

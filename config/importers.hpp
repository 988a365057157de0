#pragma once
// placeholder: owner pack. Importers of public tracker lists (Disconnect services.json, Open Cookie
// Database CSV, hosts files and ABP/uBO domain lists) into consentgate policy YAML.

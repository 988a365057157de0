#!/usr/bin/env python3
"""Generates the default policy pack (config/policies/*.yaml) from our own curated rules and from
openly licensed lists. Its output is committed; consentgate never runs this script nor reads the
source lists at run time.

Sources (see config/policies/SOURCES.md for licences and attribution):
  own       the CURATED_* tables below (written for this project)
  adguard   AdGuard companiesdb dist/trackers.json                     CC BY-SA 4.0
  easyprivacy  EasyPrivacy, compiled (uBlock Origin 1.67.0 Debian pkg)  GPL-3.0+ or CC BY-SA 3.0+
  easylist  EasyList, same package                                     GPL-3.0+ or CC BY-SA 3.0+
  ocd       Open Cookie Database CSV                                   Apache-2.0
  replay    shared session_replay_domains.csv (vendor, domain, EasyPrivacy rule columns only)

Never feed it Disconnect or DuckDuckGo TDS data (CC BY-NC-SA): they must not reach the repository.

Usage:
  apt-get download webext-ublock-origin-firefox && dpkg-deb -x webext-ublock-origin-firefox_*.deb x
  scripts/gen-pack.py --shared ../shared/data \\
      --easylist 'x/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/uBlock0@raymondhill.net/assets/thirdparties/easylist/easylist.txt' \\
      --out config/policies
"""
import argparse
import csv
import fnmatch
import hashlib
import json
import os
import re
import sys

PACK_VERSION = "2026.11.22"

# --------------------------------------------------------------------------------------------------
# Own curated rules. Each entry: id, purpose, domains, cookies, urls, note. Domains are host
# suffixes; cookies are exact names or globs; urls are RE2 on "host/path?query", unanchored.
# The URL rules are the first-party signatures: they recognise a tracker served or proxied from the
# site's own host, where no domain list can.
# --------------------------------------------------------------------------------------------------

AM = "audience-measurement"
ADP = "advertising-personalised"
AD = "advertising"
ADG = "advertising-geolocated"
CP = "content-personalisation"
SM = "social-media"
SR = "session-replay"
EM = "email-tracking"

CURATED_ANALYTICS = [
    dict(id="google-analytics-suite", purpose=AM,
         note="Google Analytics (UA and GA4); the cookies are set on the site's own domain by gtag.js",
         domains=["google-analytics.com", "analytics.google.com"],
         cookies=["_ga", "_ga_*", "_gid", "_gat", "_gat_*", "__utma", "__utmb", "__utmc", "__utmt", "__utmt_*",
                  "__utmz", "__utmv", "__utmx", "__utmxx", "_gali", "AMP_TOKEN", "_dc_gtm_*", "FPID", "FPLC",
                  "_gaexp", "_gaexp_rc"],
         # GA4 hits and the gtag loader served first-party (server-side Tag Manager on the site's host).
         urls=[r"/g/collect\?v=2&", r"/gtag/js\?id=G-", r"/(r/|j/)?collect\?v=1&_v=j"]),
    dict(id="google-tag-manager", purpose=AM,
         note="Google Tag Manager loads the measurement and advertising tags; also when served first-party",
         domains=["googletagmanager.com", "tagmanager.google.com"],
         urls=[r"/gtm\.js\?id=GTM-", r"/gtag/js\?id=(AW|DC|GT)-"]),
    dict(id="google-optimize", purpose=CP, note="Google Optimize (A/B testing)",
         domains=["googleoptimize.com"], cookies=["_opt_awcid", "_opt_awmid", "_opt_awgid", "_opt_awkid",
                                                  "_opt_utmc", "_opt_expid"]),
    dict(id="adobe-analytics", purpose=AM,
         note="Adobe Analytics / Experience Cloud; /b/ss/ is the beacon path, also on CNAME-cloaked smetrics.* hosts",
         domains=["omtrdc.net", "2o7.net", "adobedc.net", "omniture.com", "adobedtm.com"],
         cookies=["s_cc", "s_sq", "s_vi", "s_fid", "s_ecid", "s_ppv", "s_tp", "s_nr", "s_vnum", "s_invisit",
                  "s_lv", "s_lv_s", "s_plt", "s_pltp", "AMCV_*", "AMCVS_*", "s_ips", "s_tslv"],
         urls=[r"/b/ss/[^/]+/[0-9]+/", r"/ee/(v1|v2)/(interact|collect)\?configId=",
               r"/id\?d_visid_ver=", r"/AppMeasurement(\.min)?\.js"]),
    dict(id="matomo-cloud", purpose=AM, note="Matomo Cloud (third-party hosted)",
         domains=["matomo.cloud", "innocraft.cloud"]),
    dict(id="matomo-self-hosted", purpose=AM, first_party_only=True,
         note="Self-hosted Matomo/Piwik: first-party measurement, exempt when configured per CNIL",
         cookies=["_pk_id.*", "_pk_ses.*", "_pk_ref.*", "_pk_cvar.*", "_pk_hsr.*", "_pk_uid"],
         urls=[r"/(matomo|piwik)\.php\?", r"/(matomo|piwik)\.js(\?|$)"]),
    dict(id="piwik-pro", purpose=AM, note="Piwik PRO (hosted)",
         domains=["piwik.pro", "piwikpro.com", "containers.piwik.pro"], cookies=["_pk_ses_*", "_pk_id_*"],
         urls=[r"/ppms\.php\?", r"/ppms\.js(\?|$)"]),
    dict(id="at-internet-piano", purpose=AM, note="AT Internet / Piano Analytics",
         domains=["xiti.com", "ati-host.net", "aticdn.net", "at-o.net", "pa-cd.com"],
         cookies=["atuserid", "atidvisitor", "atidx", "atreman", "atredir", "atsession", "_pcid", "_pctx",
                  "pa_user", "pa_vid", "xtvrn", "xtan*", "xtant*", "idrxvr"],
         urls=[r"/hit\.xiti\?s=", r"/smarttag\.js(\?|$)", r"/piano-analytics\.js(\?|$)", r"/event\?s=[0-9]+&idclient="]),
    dict(id="mixpanel", purpose=AM, note="Mixpanel", domains=["mixpanel.com", "mxpnl.com", "mxpnl.net", "mixpanel.org"],
         cookies=["mp_*_mixpanel", "__mp_opt_in_out_*"], urls=[r"/mixpanel-2-latest(\.min)?\.js"]),
    dict(id="amplitude", purpose=AM, note="Amplitude", domains=["amplitude.com", "amplitude.net"],
         cookies=["AMP_*", "amp_*", "amplitude_id*"], urls=[r"/amplitude(-[0-9.]+)?(-min)?(\.umd)?(\.gz)?\.js(\?|$)"]),
    dict(id="segment", purpose=AM, note="Segment (Twilio) customer data platform",
         domains=["segment.com", "segment.io", "segmentapis.com"],
         cookies=["ajs_anonymous_id", "ajs_user_id", "ajs_group_id"],
         urls=[r"/analytics\.js/v1/[A-Za-z0-9]+/analytics\.min\.js"]),
    dict(id="rudderstack", purpose=AM, note="RudderStack", domains=["rudderstack.com", "rudderlabs.com"],
         cookies=["rl_anonymous_id", "rl_user_id", "rl_trait", "rl_group_id", "rl_group_trait", "rl_page_init_referrer",
                  "rl_page_init_referring_domain", "rl_session"]),
    dict(id="heap", purpose=AM, note="Heap (autocapture analytics)", domains=["heapanalytics.com", "heap.io"],
         cookies=["_hp2_id.*", "_hp2_ses_props.*", "_hp2_props.*"]),
    dict(id="posthog", purpose=AM, note="PostHog product analytics",
         domains=["posthog.com", "i.posthog.com"], cookies=["ph_*_posthog"]),
    dict(id="yandex-metrica", purpose=AM, note="Yandex.Metrica",
         domains=["mc.yandex.ru", "mc.yandex.com", "mc.yandex.by", "mc.yandex.kz", "mc.yandex.ua", "mc.yandex.com.tr",
                  "metrika.yandex.ru", "mc.yandex.md", "mc.yandex.az", "mc.yandex.uz"],
         cookies=["_ym_uid", "_ym_d", "_ym_isad", "_ym_hostIndex", "_ym_mp2_*", "_ym_fa", "yandex_login_metrica"],
         urls=[r"/metrika/(tag|watch)(_ww)?\.js"]),
    dict(id="baidu-tongji", purpose=AM, note="Baidu Tongji", domains=["hm.baidu.com", "hmcdn.baidu.com"],
         cookies=["Hm_lvt_*", "Hm_lpvt_*"]),
    dict(id="hubspot-analytics", purpose=AM, note="HubSpot tracking code",
         domains=["hs-analytics.net", "track.hubspot.com", "hs-scripts.com", "hs-banner.com", "hscollectedforms.net",
                  "hsleadflows.net", "usemessages.com", "hubspot.net", "hubapi.com"],
         cookies=["__hstc", "hubspotutk", "__hssc", "__hssrc", "messagesUtk"]),
    dict(id="chartbeat", purpose=AM, note="Chartbeat", domains=["chartbeat.com", "chartbeat.net"],
         cookies=["_cb", "_cb_ls", "_cb_svref", "_chartbeat2", "_chartbeat4", "_cb_cp"]),
    dict(id="parsely", purpose=AM, note="Parse.ly", domains=["parsely.com", "parse.ly"],
         cookies=["_parsely_visitor", "_parsely_session", "_parsely_slot_click"]),
    dict(id="comscore", purpose=AM, note="comScore", domains=["scorecardresearch.com", "comscore.com", "sitestat.com"],
         cookies=["_scor_uid"]),
    dict(id="nielsen", purpose=AM, note="Nielsen Digital Content Ratings", domains=["imrworldwide.com", "nielsen.com"]),
    dict(id="mediametrie", purpose=AM, note="Médiamétrie eStat", domains=["estat.com", "mediametrie.fr"],
         cookies=["estat_*"]),
    dict(id="gemius", purpose=AM, note="Gemius audience measurement", domains=["gemius.pl", "gemius.com", "gemius.cz"],
         cookies=["__gfp_64b", "Gdyn"]),
    dict(id="infonline", purpose=AM, note="INFOnline (IVW/ÖWA)", domains=["ioam.de", "iocnt.net", "infonline.de",
                                                                           "oewabox.at", "ivwbox.de"],
         cookies=["ioma2018"]),
    dict(id="webtrekk-mapp", purpose=AM, note="Webtrekk / Mapp Intelligence",
         domains=["wt-eu02.net", "wt-safetag.com", "webtrekk.net", "webtrekk.com", "webtrekk.de", "mateti.net",
                  "wcfbc.net"],
         cookies=["wt3_eid", "wt3_sid", "wt_rla", "wteid_*", "wtsid_*", "wt_cdbeid", "wt_geid", "wt_fweid"],
         urls=[r"/wt/wt\.js"]),
    dict(id="eulerian", purpose=AM, note="Eulerian", domains=["eulerian.net", "eulerian.com", "eulerian.io"],
         cookies=["etuix"]),
    dict(id="commanders-act", purpose=AM, note="Commanders Act (TagCommander)",
         domains=["tagcommander.com", "commander1.com", "commandersact.com"],
         cookies=["TCPID"]),
    dict(id="tealium", purpose=AM, note="Tealium iQ / collect", domains=["tiqcdn.com", "tealiumiq.com", "tealium.com"],
         cookies=["utag_main", "utag_*"], urls=[r"/utag(\.sync)?\.js(\?|$)"]),
    dict(id="quantcast-measure", purpose=ADP, note="Quantcast Measure / Advertise (not the Quantcast Choice CMP)",
         domains=["quantserve.com", "quantcount.com"], cookies=["__qca", "__qcb"]),
    dict(id="plausible", purpose=AM, note="Plausible (cookieless, third-party hosted)", domains=["plausible.io"]),
    dict(id="fathom", purpose=AM, note="Fathom Analytics", domains=["usefathom.com"]),
    dict(id="simple-analytics", purpose=AM, note="Simple Analytics",
         domains=["simpleanalyticscdn.com", "simpleanalytics.com", "simpleanalytics.io"]),
    dict(id="clicky", purpose=AM, note="Clicky", domains=["getclicky.com", "clicky.com", "staticstuff.net"],
         cookies=["_jsuid", "_eventqueue", "_referrer_og", "_first_pageview", "_utm_og"]),
    dict(id="statcounter", purpose=AM, note="StatCounter", domains=["statcounter.com"],
         cookies=["sc_is_visitor_unique"]),
    dict(id="woopra", purpose=AM, note="Woopra", domains=["woopra.com"], cookies=["wooTracker"]),
    dict(id="kissmetrics", purpose=AM, note="Kissmetrics", domains=["kissmetrics.com", "kissmetrics.io"],
         cookies=["km_ai", "km_lv", "km_vs", "km_uq", "kvcd"]),
    dict(id="pendo", purpose=AM, note="Pendo", domains=["pendo.io", "pendo-io-static.storage.googleapis.com"],
         cookies=["_pendo_*"]),
    dict(id="snowplow", purpose=AM, note="Snowplow trackers; the tp2 path is the collector, often first-party",
         domains=["snplow.net", "snowplowanalytics.com"], cookies=["_sp_id.*", "_sp_ses.*"],
         urls=[r"/com\.snowplowanalytics\.snowplow/tp2", r"/i\?e=pv&url=.*&tv=js-"]),
    dict(id="new-relic-browser", purpose=AM, note="New Relic Browser (real-user monitoring)",
         domains=["nr-data.net", "js-agent.newrelic.com"]),
    dict(id="dynatrace-rum", purpose=AM, note="Dynatrace RUM; rb_ beacons are sent to the site's own host",
         domains=["dynatrace.com", "dynatrace-managed.com", "ruxit.com"],
         cookies=["rxVisitor", "rxvt", "dtPC", "dtSa", "dtLatC"],
         urls=[r"/rb_[a-z0-9-]{8,}\?type=js", r"/ruxitagentjs_[A-Za-z0-9_]+\.js"]),
    dict(id="akamai-mpulse", purpose=AM, note="Akamai mPulse (boomerang)", domains=["go-mpulse.net", "akstat.io"]),
    dict(id="datadog-rum", purpose=AM, note="Datadog browser RUM",
         domains=["browser-intake-datadoghq.com", "browser-intake-datadoghq.eu", "browser-intake-us3-datadoghq.com",
                  "browser-intake-us5-datadoghq.com", "browser-intake-ap1-datadoghq.com", "browser-intake-ddog-gov.com"],
         cookies=["_dd_s"]),
    dict(id="microsoft-application-insights", purpose=AM, note="Azure Application Insights (browser SDK)",
         domains=["dc.services.visualstudio.com", "js.monitor.azure.com"], cookies=["ai_user", "ai_session"]),
    dict(id="tracedock", purpose=AM, note="TraceDock server-side tracking (CNAME target)", domains=["tracedock.com"]),
    dict(id="cloudflare-web-analytics", purpose=AM, note="Cloudflare Web Analytics beacon",
         domains=["cloudflareinsights.com"]),
    dict(id="vercel-analytics", purpose=AM, note="Vercel Web Analytics (first-party path)",
         urls=[r"/_vercel/insights/(script\.js|view|event)"]),
    dict(id="wordpress-stats", purpose=AM, note="Jetpack / WordPress.com Stats",
         domains=["pixel.wp.com", "stats.wp.com"], cookies=["tk_ai", "tk_qs", "tk_lr", "tk_or", "tk_r3d"]),
    dict(id="ab-tasty", purpose=CP, note="AB Tasty", domains=["abtasty.com", "abtasty.net"],
         cookies=["ABTasty", "ABTastySession", "ABTastyDomainTest"]),
    dict(id="optimizely", purpose=CP, note="Optimizely Web Experimentation",
         domains=["optimizely.com", "optimizelyapis.com", "optimizely.net"],
         cookies=["optimizelyEndUserId", "optimizelyRedirectData", "optimizelyDomainTestCookie", "optimizelySegments",
                  "optimizelyBuckets"]),
    dict(id="vwo", purpose=CP, note="VWO (Wingify)", domains=["visualwebsiteoptimizer.com", "wingify.com", "vwo.com"],
         cookies=["_vwo_uuid*", "_vwo_ds", "_vwo_sn", "_vis_opt_*", "_vwo_referrer"]),
    dict(id="kameleoon", purpose=CP, note="Kameleoon", domains=["kameleoon.com", "kameleoon.eu", "kameleoon.io",
                                                              "kameleoon.net"],
         cookies=["kameleoonVisitorCode", "kameleoonLegalConsent"]),
    dict(id="dynamic-yield", purpose=CP, note="Dynamic Yield", domains=["dynamicyield.com", "dynamicyield.net"],
         cookies=["_dyid", "_dyjsession", "_dy_csc_ses", "_dy_c_exps", "_dycnst", "_dy_ses_load_seq", "_dycst",
                  "_dyid_server", "_dy_geo", "_dy_df_geo", "_dy_toffset", "_dy_soct", "_dyfs", "_dy_cs_*"]),
    dict(id="monetate", purpose=CP, note="Monetate", domains=["monetate.net", "monetate.com"],
         cookies=["mt.v", "mt.sc"]),
    dict(id="adobe-target", purpose=CP, note="Adobe Target", domains=["tt.omtrdc.net"], cookies=["mbox", "at_check"],
         urls=[r"/rest/v1/delivery\?client="]),
]

CURATED_ADVERTISING = [
    dict(id="google-ads", purpose=ADP,
         note="DoubleClick, AdSense, Google Ads conversion and remarketing",
         domains=["doubleclick.net", "googlesyndication.com", "googleadservices.com", "googletagservices.com",
                  "2mdn.net", "adservice.google.com", "adtrafficquality.google", "googleads.g.doubleclick.net",
                  "doubleclickbygoogle.com", "google-analytics-ads.com", "googletraveladservices.com",
                  "admob.com", "invitemedia.com", "googleadsserving.cn", "googlesyndication-cn.com"],
         cookies=["__gads", "__gpi", "__gsas", "_gcl_au", "_gcl_aw", "_gcl_dc", "_gcl_gb", "_gcl_gs", "_gcl_ha",
                  "_gcl_gf", "_gac_*", "_gac_gb_*", "FPGCLAW", "FPGCLDC", "FPGCLGB", "FPAU", "IDE", "test_cookie",
                  "DSID", "ar_debug", "GoogleAdServingTest", "FCCDCF", "FCNEC"],
         # Google's ad endpoints that live under google.<tld> itself, which as a whole is not a tracker.
         urls=[r"^(www\.)?google(\.com?)?\.[a-z]{2,3}/(pagead|ads/ga-audiences|ads/conversion|adsense)",
               r"/pagead/(conversion|viewthroughconversion|1p-user-list|1p-conversion|landing)/",
               r"/pagead/(js/)?adsbygoogle\.js", r"/pagead/show_ads\.js"]),
    dict(id="criteo", purpose=ADP, note="Criteo retargeting",
         # dnsdelegation.io is the target of Criteo's CNAME-delegated first-party sub-domains.
         domains=["criteo.com", "criteo.net", "hlserve.com", "emailretargeting.com", "sgmntfy.com", "dnsdelegation.io"],
         cookies=["cto_bundle", "cto_bidid", "cto_dna_bundle", "cto_tld_test", "cto_optout", "criteo_write_test"],
         urls=[r"/delivery/(ajs|lg|afr)\.php\?.*criteo"]),
    dict(id="taboola", purpose=ADP, note="Taboola recommendations", domains=["taboola.com", "taboolasyndication.com",
                                                                            "taboolanews.com", "taboolacdn.com"],
         cookies=["t_gid", "t_pt_gid", "taboola_session_id", "trc_cookie_storage", "taboola_fp_td_user_id",
                  "_tb_sess_r", "_tb_t_ppg"]),
    dict(id="outbrain", purpose=ADP, note="Outbrain recommendations",
         domains=["outbrain.com", "outbrainimg.com", "zemanta.com", "ligatus.com", "ligatus.de"],
         cookies=["obuid", "outbrain_cid_fetch", "_ob_*"]),
    dict(id="amazon-ads", purpose=ADP, note="Amazon Advertising",
         domains=["amazon-adsystem.com", "assoc-amazon.com", "assoc-amazon.de", "assoc-amazon.fr", "assoc-amazon.co.uk",
                  "assoc-amazon.ca", "assoc-amazon.jp", "aan.amazon.com", "aax-eu.amazon.com", "advertising-api-eu.amazon.com",
                  "sizmek.com", "serving-sys.com"],
         cookies=["aps_*"]),
    dict(id="xandr", purpose=ADP, note="Xandr / AppNexus (Microsoft)",
         domains=["adnxs.com", "adnxs-simple.com", "adnxs.net", "appnexus.com", "appnexus.net", "xandr.com",
                  "xandr-ssp.com"],
         cookies=["uuid2", "anj", "XANDR_PANID", "receive-cookie-deprecation"]),
    dict(id="the-trade-desk", purpose=ADP, note="The Trade Desk (incl. Unified ID 2.0)",
         domains=["adsrvr.org", "thetradedesk.com", "uidapi.com", "unifiedid.com"],
         cookies=["__uid2_advertising_token", "TDID", "TDCPM", "TTDOptOut"]),
    dict(id="microsoft-ads", purpose=ADP, note="Microsoft Advertising UET",
         domains=["bat.bing.com", "bat.bing.net", "ads.microsoft.com", "bat.r.msn.com", "c.bing.com", "c.msn.com",
                  "ads.msn.com", "flex.msn.com", "atdmt.com", "adsymptotic.com"],
         cookies=["_uetsid", "_uetvid", "_uetmsclkid", "_uetmsdns", "_uetsid_exp", "_uetvid_exp"]),
    dict(id="yahoo-ads", purpose=ADP, note="Yahoo Advertising (DSP, dot pixel), ex-Verizon Media / Oath",
         domains=["ads.yahoo.com", "analytics.yahoo.com", "sp.analytics.yahoo.com", "gemini.yahoo.com",
                  "advertising.com", "adtech.com", "adtechus.com", "adtech.de", "yieldmanager.com", "yieldmanager.net",
                  "brightroll.com", "btrll.com", "bluelithium.com", "atwola.com", "aolcloud.net", "oath.com",
                  "pubnative.net", "ybp.yahoo.com", "adserver.yahoo.com"],
         cookies=["IDSYNC"]),
    dict(id="rubicon-magnite", purpose=ADP, note="Magnite (Rubicon Project, Telaria, SpotX)",
         domains=["rubiconproject.com", "magnite.com", "spotxchange.com", "spotx.tv", "spotxcdn.com", "tremorhub.com",
                  "telaria.com", "springserve.com"],
         cookies=["khaos"]),
    dict(id="pubmatic", purpose=ADP, note="PubMatic", domains=["pubmatic.com", "pubmatic.co.jp"],
         cookies=["KADUSERCOOKIE", "PUBMDCID", "KRTBCOOKIE_*", "PugT", "SyncRTB*", "DPSync*", "SPugT"]),
    dict(id="index-exchange", purpose=ADP, note="Index Exchange", domains=["casalemedia.com", "indexww.com",
                                                                        "indexexchange.com"],
         cookies=["CMID", "CMPS", "CMPRO", "CMST", "CMRUM3"]),
    dict(id="openx", purpose=ADP, note="OpenX", domains=["openx.net", "openx.com", "openx.org", "servedbyopenx.com",
                                                        "openxenterprise.com"],
         cookies=["univ_id", "OAID", "OAGEO*"]),
    dict(id="sovrn", purpose=ADP, note="Sovrn / Lijit", domains=["lijit.com", "sovrn.com", "viglink.com"],
         cookies=["ljt_reader", "ljtrtb", "_ljtrtb_*"]),
    dict(id="triplelift", purpose=ADP, note="TripleLift", domains=["3lift.com", "triplelift.com"],
         cookies=["tluid", "tluidp"]),
    dict(id="teads", purpose=ADP, note="Teads", domains=["teads.tv", "teads.com"],
         cookies=["tt_viewer", "tt_bluekai", "tt_exelate", "tt_liveramp", "tt_neustar", "tt_salesforce"]),
    dict(id="equativ", purpose=ADP, note="Equativ (Smart AdServer)",
         domains=["smartadserver.com", "sascdn.com", "equativ.com", "smartadserver.de", "stickyadstv.com"],
         cookies=["sasd", "sasd2", "csync", "TestIfCookie", "TestIfCookieP", "lcsrd"]),
    dict(id="adform", purpose=ADP, note="Adform", domains=["adform.net", "adform.com", "adformdsp.net", "seadform.net"],
         cookies=["adformfrpid", "uid-adform"]),
    dict(id="mediamath", purpose=ADP, note="MediaMath", domains=["mathtag.com", "mediamath.com"],
         cookies=["mt_misc", "mt_mop", "uuidc"]),
    dict(id="liveramp", purpose=ADP, note="LiveRamp identity (ATS, RampID)",
         domains=["rlcdn.com", "liveramp.com", "pippio.com", "rapleaf.com", "arbor.io", "liveramp.net"],
         cookies=["_lr_env", "_lr_env_src_ats", "_lr_retry_request", "_lr_geo_location", "_lr_sampling_rate",
                  "pxrc", "rlas3"]),
    dict(id="lotame", purpose=ADP, note="Lotame DMP", domains=["crwdcntrl.net", "lotame.com"],
         cookies=["_cc_aud", "_cc_cc", "_cc_id", "_cc_dc", "_cc_domain", "panoramaId", "panoramaId_expiry",
                  "panoramaId_expiry_exp", "lotame_domain_check"]),
    dict(id="oracle-advertising", purpose=ADP, note="Oracle BlueKai / AddThis / Grapeshot / Moat",
         domains=["bluekai.com", "bkrtx.com", "addthis.com", "addthiscdn.com", "addthisedge.com", "grapeshot.co.uk",
                  "gscontxt.net", "moatads.com", "moatpixel.com", "moat.com", "exelator.com", "eloqua.com",
                  "en25.com", "oracleinfinity.io", "bizographics.com"],
         cookies=["bkdc", "bku", "bkpa", "__atuvc", "__atuvs", "__atrfs", "_at.*", "ELOQUA", "ELQSTATUS"]),
    dict(id="adobe-advertising", purpose=ADP, note="Adobe Audience Manager and Advertising Cloud",
         domains=["demdex.net", "everesttech.net", "everestjs.net", "everestads.net", "tubemogul.com"],
         cookies=["dextp", "demdex", "aam_uuid", "everest_g_v2", "everest_session_v2", "ev_sync_*", "id_adcloud"]),
    dict(id="id5", purpose=ADP, note="ID5 shared identifier", domains=["id5-sync.com", "id5.io"],
         cookies=["id5id", "id5id_last", "id5id_cached_pd", "id5_*"]),
    dict(id="liveintent", purpose=ADP, note="LiveIntent (email-based identity)",
         domains=["liadm.com", "liveintent.com", "licasd.com", "lidata.com"], cookies=["_li_ss", "lidid", "_lc2_fpi",
                                                                                   "_lc2_fpi_*"]),
    dict(id="permutive", purpose=ADP, note="Permutive publisher DMP",
         domains=["permutive.com", "permutive.app", "prmutv.co"], cookies=["permutive-id", "permutive-session"]),
    dict(id="adroll", purpose=ADP, note="AdRoll / NextRoll", domains=["adroll.com", "nextroll.com"],
         cookies=["__adroll", "__adroll_fpc", "__adroll_shared", "__ar_v4", "__adroll_consent_params"]),
    dict(id="branch", purpose=ADP, note="Branch attribution (CNAME target of custom link domains)",
         domains=["bnc.lt", "branch.io", "app.link"]),
    dict(id="rtb-house", purpose=ADP, note="RTB House", domains=["creativecdn.com", "rtbhouse.com"]),
    dict(id="tapad", purpose=ADP, note="Tapad cross-device graph", domains=["tapad.com"],
         cookies=["TapAd_DID", "TapAd_TS", "TapAd_3WAY_SYNCS"]),
    dict(id="neustar-transunion", purpose=ADP, note="Neustar / TransUnion AdAdvisor",
         domains=["agkn.com", "adadvisor.net", "neustar.biz"]),
    dict(id="zeotap", purpose=ADP, note="Zeotap", domains=["zeotap.com"]),
    dict(id="eyeota", purpose=ADP, note="Eyeota", domains=["eyeota.net"]),
    dict(id="bidswitch", purpose=ADP, note="Bidswitch (IPONWEB)", domains=["bidswitch.net", "iponweb.net", "iponweb.com"],
         cookies=["tuuid", "tuuid_lu"]),
    dict(id="sharethrough", purpose=ADP, note="Sharethrough", domains=["sharethrough.com", "shareth.ru"]),
    dict(id="gumgum", purpose=ADP, note="GumGum", domains=["gumgum.com"]),
    dict(id="yieldmo", purpose=ADP, note="Yieldmo", domains=["yieldmo.com"]),
    dict(id="33across", purpose=ADP, note="33Across", domains=["33across.com"]),
    dict(id="sonobi", purpose=ADP, note="Sonobi", domains=["sonobi.com"]),
    dict(id="improve-digital", purpose=ADP, note="Improve Digital", domains=["360yield.com", "improvedigital.com"]),
    dict(id="adyoulike", purpose=ADP, note="Adyoulike", domains=["adyoulike.com", "omnitagjs.com"]),
    dict(id="seedtag", purpose=ADP, note="Seedtag", domains=["seedtag.com"],
         cookies=["st_uid", "st_cs", "st_csd", "st_cnt", "st_chc", "st_ssp"]),
    dict(id="mediarithmics", purpose=ADP, note="mediarithmics", domains=["mediarithmics.com", "mediarithmics.io"],
         cookies=["mics_vid", "mics_uaid", "mics_lts"]),
    dict(id="weborama", purpose=ADP, note="Weborama", domains=["weborama.com", "weborama.fr", "weborama.io",
                                                              "weborama-tech.ru"],
         cookies=["wbo_*", "AFFICHE_W"]),
    dict(id="mediasquare", purpose=ADP, note="Mediasquare", domains=["mediasquare.fr"]),
    dict(id="onetag", purpose=ADP, note="OneTag", domains=["onetag-sys.com", "onetag.com"]),
    dict(id="smaato", purpose=ADP, note="Smaato", domains=["smaato.net", "smaato.com"]),
    dict(id="freewheel", purpose=ADP, note="FreeWheel (Comcast)", domains=["fwmrm.net", "freewheel.tv", "freewheel.com"]),
    dict(id="innovid", purpose=AD, note="Innovid", domains=["innovid.com"]),
    dict(id="flashtalking", purpose=AD, note="Flashtalking ad server", domains=["flashtalking.com"]),
    dict(id="integral-ad-science", purpose=AD, note="IAS ad verification", domains=["adsafeprotected.com",
                                                                                  "iasds01.com", "integralads.com"]),
    dict(id="doubleverify", purpose=AD, note="DoubleVerify ad verification", domains=["doubleverify.com", "dvtps.com",
                                                                                     "dv.tech"]),
    dict(id="prebid", purpose=AD, note="Prebid.js header bidding served from the site",
         urls=[r"/prebid[0-9._-]*(\.min)?\.js(\?|$)"]),
    dict(id="awin", purpose=ADP, note="Awin / Zanox affiliate tracking",
         domains=["awin1.com", "awin.com", "zanox.com", "zanox.ws", "dwin1.com"], cookies=["_aw_m_*", "_aw_j_*",
                                                                                        "AwinChannelCookie"]),
    dict(id="cj-affiliate", purpose=ADP, note="CJ Affiliate (Conversant)",
         domains=["emjcd.com", "anrdoezrs.net", "dpbolvw.net", "jdoqocy.com", "kqzyfj.com", "tkqlhce.com", "qksrv.net",
                  "ftjcfx.com", "lduhtrp.net", "afcyhf.com", "awltovhc.com", "dotomi.com", "cj.com"],
         cookies=["cjevent", "cje", "cjConsent"]),
    dict(id="rakuten-advertising", purpose=ADP, note="Rakuten Advertising (LinkShare)",
         domains=["linksynergy.com", "rakutenadvertising.com", "rakutenmarketing.com", "rmtag.com"],
         cookies=["rmStore*", "rmuid"]),
    dict(id="tradedoubler", purpose=ADP, note="Tradedoubler", domains=["tradedoubler.com"]),
    dict(id="kwanko-effinity", purpose=ADP, note="Kwanko / Effiliation / NetAffiliation",
         domains=["netaffiliation.com", "metaffiliation.com", "effiliation.com", "kwanko.com"]),
    dict(id="impact", purpose=ADP, note="impact.com partnerships", domains=["impactradius-event.com", "impact.com",
                                                                           "impactradius.com", "ojrq.net", "sjv.io",
                                                                           "evyy.net", "pxf.io"],
         cookies=["IR_gbd"]),
    dict(id="partnerize", purpose=ADP, note="Partnerize", domains=["prf.hn", "performancehorizon.com"]),
    dict(id="skimlinks", purpose=ADP, note="Skimlinks", domains=["skimlinks.com", "skimresources.com", "redirectingat.com"]),
    dict(id="adex-theadex", purpose=ADP, note="The ADEX DMP", domains=["theadex.com"]),
    dict(id="adition", purpose=ADP, note="Adition", domains=["adition.com"]),
    dict(id="yieldlab", purpose=ADP, note="Yieldlab", domains=["yieldlab.net", "yieldlab.de"]),
    dict(id="emetriq", purpose=ADP, note="emetriq", domains=["emetriq.de", "emetriq.com", "xplosion.de"]),
    dict(id="nugg-ad", purpose=ADP, note="nugg.ad", domains=["nuggad.net", "nugg.ad"]),
    dict(id="stroeer", purpose=ADP, note="Ströer SSP", domains=["adscale.de", "stroeerdigitalgroup.de", "stroeerdigitalmedia.de"]),
    dict(id="admixer", purpose=ADP, note="Admixer", domains=["admixer.net", "admixer.com"]),
    dict(id="adotmob", purpose=ADG, note="Adot (geolocated mobile advertising)", domains=["adotmob.com"]),
    dict(id="s4m", purpose=ADG, note="S4M drive-to-store advertising", domains=["s4m.io", "sam4m.com"]),
    dict(id="blis", purpose=ADG, note="Blis location-based advertising", domains=["blismedia.com", "blis.com"]),
    dict(id="groundtruth", purpose=ADG, note="GroundTruth (xAd) location advertising", domains=["xad.com", "groundtruth.com"]),
    dict(id="cuebiq", purpose=ADG, note="Cuebiq location data", domains=["cuebiq.com"]),
    dict(id="placeiq", purpose=ADG, note="PlaceIQ location data", domains=["placeiq.com", "placeiq.net"]),
    dict(id="ninthdecimal", purpose=ADG, note="NinthDecimal location advertising", domains=["ninthdecimal.com"]),
    dict(id="near", purpose=ADG, note="Near Intelligence", domains=["near.co", "adnear.net"]),
    dict(id="gimbal", purpose=ADG, note="Gimbal proximity advertising", domains=["gimbal.com"]),
    dict(id="reveal-mobile", purpose=ADG, note="Reveal Mobile", domains=["revealmobile.com"]),
    dict(id="unacast", purpose=ADG, note="Unacast", domains=["unacast.com"]),
]

CURATED_SOCIAL = [
    dict(id="meta", purpose=SM,
         note="Meta Pixel, Facebook SDK and social plugins; the CDN (fbcdn.net) is left to Facebook's own pages",
         domains=["facebook.net", "facebook.com", "facebook.de", "facebook.fr", "fb.com", "fb.me", "fbsbx.com",
                  "instagram.com"],
         cookies=["_fbp", "_fbc"],
         urls=[r"/fbevents\.js(\?|$)", r"/signals/config/[0-9]+\?v=", r"/tr/?\?id=[0-9]+&ev="]),
    dict(id="linkedin", purpose=SM, note="LinkedIn Insight Tag and plugins",
         domains=["linkedin.com", "snap.licdn.com", "px.ads.linkedin.com", "platform.linkedin.com", "lnkd.in",
                  "bizographics.com"],
         cookies=["li_fat_id", "li_sugr", "lms_ads", "lms_analytics", "UserMatchHistory", "AnalyticsSyncHistory",
                  "ln_or", "li_giant"],
         urls=[r"/li\.lms-analytics/insight(\.min)?\.js"]),
    dict(id="x-twitter", purpose=SM, note="X (Twitter) pixel, widgets and syndication",
         domains=["twitter.com", "x.com", "ads-twitter.com", "t.co", "twttr.com", "syndication.twitter.com",
                  "cdn.syndication.twimg.com", "platform.twitter.com", "analytics.twitter.com", "ads-api.twitter.com"],
         cookies=["_twclid", "muc_ads", "personalization_id", "guest_id_ads", "guest_id_marketing"],
         urls=[r"/i/adsct\?", r"/oct\.js(\?|$)", r"/uwt\.js(\?|$)"]),
    dict(id="tiktok", purpose=SM, note="TikTok Pixel and embeds",
         domains=["analytics.tiktok.com", "business-api.tiktok.com", "ads.tiktok.com", "analytics-sg.tiktok.com",
                  "tiktok.com", "tiktokw.us", "tiktokv.com", "tiktokv.us", "byteoversea.com", "ttwstatic.com"],
         cookies=["_ttp", "_tt_enable_cookie", "ttcsid", "ttcsid_*", "tt_sessionId", "tt_pixel_session_index",
                  "tt_appInfo"],
         urls=[r"/i18n/pixel/events\.js", r"/api/v2/pixel(/act)?\?"]),
    dict(id="pinterest", purpose=SM, note="Pinterest Tag and widgets",
         domains=["pinterest.com", "ct.pinterest.com", "widgets.pinterest.com", "log.pinterest.com", "pin.it",
                  "pinterest.fr", "pinterest.de", "pinterest.co.uk"],
         cookies=["_pin_unauth", "_pinterest_ct_ua", "_pinterest_ct_rt", "_pinterest_ct", "_epik", "_derived_epik",
                  "_routing_id", "_pinterest_ct_mw"],
         urls=[r"s\.pinimg\.com/ct/", r"/ct/core\.js(\?|$)", r"s\.pinimg\.com/js/pinit"]),
    dict(id="snap", purpose=SM, note="Snap Pixel", domains=["tr.snapchat.com", "tr-shadow.snapchat.com",
                                                            "snapchat.com", "snap.com", "snapads.com", "snapkit.com"],
         cookies=["_scid", "_scid_r", "_sctr", "sc_at", "_schn", "_ss_s"],
         urls=[r"sc-static\.net/scevent\.min\.js", r"/scevent\.min\.js(\?|$)"]),
    dict(id="reddit", purpose=SM, note="Reddit Pixel and embeds",
         domains=["reddit.com", "alb.reddit.com", "events.reddit.com", "embed.reddit.com", "pixel-config.reddit.com"],
         cookies=["_rdt_uuid", "_rdt_cid", "_rdt_em", "_rdt_pn"],
         urls=[r"redditstatic\.com/ads/", r"/ads/pixel\.js(\?|$)"]),
    dict(id="quora", purpose=SM, note="Quora Pixel", domains=["q.quora.com", "qcdn.quora.com"], cookies=["_qca_qp"],
         urls=[r"quora\.com/_/ad/", r"/qevents\.js(\?|$)"]),
    dict(id="vkontakte", purpose=SM, note="VK pixel and widgets", domains=["vk.com", "vkontakte.ru", "vk-analytics.com",
                                                                          "top-fwz1.mail.ru", "vk.ru"],
         cookies=["_vkpixel*", "tmr_lvid", "tmr_lvidTS", "tmr_reqNum", "tmr_detect"]),
    dict(id="odnoklassniki", purpose=SM, note="Odnoklassniki widgets", domains=["ok.ru", "odnoklassniki.ru"]),
    dict(id="social-sharing-widgets", purpose=SM, note="Share-button services",
         domains=["sharethis.com", "addtoany.com", "shareaholic.com", "shareaholic.net", "po.st", "sumome.com",
                  "sumo.com", "uptolike.com", "pluso.ru"],
         cookies=["__sharethis_cookie_test__", "__stid", "__unam", "_sharethis*"]),
    dict(id="xing", purpose=SM, note="XING share and insight", domains=["xing-share.com", "xing-analytics.com"]),
    dict(id="tumblr-widgets", purpose=SM, note="Tumblr share buttons", domains=["platform.tumblr.com",
                                                                               "assets.tumblr.com"]),
    dict(id="disqus-ads", purpose=SM, note="Disqus (comments with advertising profiling)",
         domains=["disqus.com", "disquscdn.com", "disqusads.com"], cookies=["disqus_unique"]),
]

CURATED_REPLAY = [
    dict(id="hotjar-recorder", purpose=SR, note="Hotjar (now Contentsquare)",
         domains=["hotjar.com", "hotjar.io", "hotjar.net"],
         cookies=["_hj*", "hj_visitor"],
         urls=[r"/hotjar-[0-9]+\.js\?sv=", r"/c/hotjar-[0-9]+\.js"]),
    dict(id="fullstory", purpose=SR, note="FullStory; the relay paths let sites proxy recordings first-party",
         domains=["fullstory.com", "fullstory.net"],
         cookies=["fs_uid", "fs_lua", "fs_cid", "fs_session"],
         urls=[r"/s/fs\.js(\?|$)", r"/rec/(bundle|page|integrations)(/v2)?\?", r"/edge\.fullstory\.com/"]),
    dict(id="microsoft-clarity", purpose=SR, note="Microsoft Clarity",
         domains=["clarity.ms"], cookies=["_clck", "_clsk"],
         urls=[r"/clarity\.js(\?|$)"]),
    dict(id="contentsquare", purpose=SR, note="Contentsquare (and former Clicktale)",
         domains=["contentsquare.net", "contentsquare.com", "clicktale.net", "clicktale.com", "clicktalecdn.com"],
         cookies=["_cs_id", "_cs_s", "_cs_c", "_cs_cvars", "_cs_ex", "_cs_mk", "_cs_mk_ga", "_cs_mk_aa", "_cs_t",
                  "_cs_root-domain", "_cs_same_site", "_cs_debug"],
         urls=[r"/uxa/[0-9a-f]{10,}\.js", r"/clicktale\.js", r"/ptc/[0-9a-f-]{20,}\.js"]),
    dict(id="mouseflow", purpose=SR, note="Mouseflow", domains=["mouseflow.com"],
         cookies=["mf_user"], urls=[r"/projects/[0-9a-f-]{36}\.js"]),
    dict(id="logrocket", purpose=SR, note="LogRocket",
         domains=["logrocket.com", "logrocket.io", "lr-ingest.io", "lr-ingest.com", "lr-in.com", "lr-in-prod.com",
                  "lrkt-in.com", "lgrckt-in.com", "logr-ingest.com", "intake-lr.com"],
         urls=[r"/LogRocket(\.min)?\.js", r"/logger-1\.min\.js"]),
    dict(id="smartlook", purpose=SR, note="Smartlook (Cisco)",
         domains=["smartlook.com", "getsmartlook.com", "smartlook.cloud", "smartlook.io"],
         cookies=["SL_C_*", "SL_L_*", "SL_wptGlobTipTmp"]),
    dict(id="quantum-metric", purpose=SR, note="Quantum Metric",
         domains=["quantummetric.com"], cookies=["QuantumMetricSessionID", "QuantumMetricUserID",
                                                 "QuantumMetricSessionLink", "QuantumMetricEnabled"],
         urls=[r"/qscripts/quantum-[a-z0-9_-]+\.js", r"/quantum-[a-z0-9_-]+\.js\?"]),
    dict(id="glassbox", purpose=SR, note="Glassbox",
         domains=["glassboxdigital.io", "glassboxcdn.com", "glassbox.com", "gbqofs.com", "gbqofs.io"],
         cookies=["_cls_v", "_cls_s"], urls=[r"/detector-dom\.min\.js"]),
    dict(id="sessioncam", purpose=SR, note="SessionCam (now Glassbox)", domains=["sessioncam.com"],
         cookies=["sc.ASP.NET_SESSIONID", "sc.Status"]),
    dict(id="sessionstack", purpose=SR, note="SessionStack", domains=["sessionstack.com"]),
    dict(id="inspectlet", purpose=SR, note="Inspectlet", domains=["inspectlet.com"], cookies=["__insp_*"]),
    dict(id="lucky-orange", purpose=SR, note="Lucky Orange", domains=["luckyorange.com", "luckyorange.net"],
         cookies=["_lo_uid", "_lo_rid", "_lo_v", "_lo_np_*", "_lorid", "_lo_cid", "_lo_bn"]),
    dict(id="crazy-egg", purpose=SR, note="Crazy Egg (recordings and heatmaps)", domains=["crazyegg.com", "cetrk.com"],
         cookies=["_ceir", "_ce.s", "_ce.clock_data", "_ce.clock_event", "_ce.irv", "_ce.cch", "_ce.gtld", "cebs",
                  "cebsp_*", "_CEFT"]),
    dict(id="decibel-medallia-dxa", purpose=SR, note="Decibel (Medallia DXA)", domains=["decibelinsight.net"],
         cookies=["da_sid", "da_lid", "da_intState"]),
    dict(id="userreplay", purpose=SR, note="UserReplay", domains=["userreplay.net", "userreplay.com"]),
    dict(id="livesession", purpose=SR, note="LiveSession", domains=["livesession.io"], cookies=["__ls_uid", "__ls_sid"]),
    dict(id="replaybird", purpose=SR, note="ReplayBird", domains=["replaybird.com"]),
    dict(id="yandex-webvisor", purpose=SR, note="Yandex Metrica Webvisor recordings",
         domains=["mc.webvisor.org", "mc.webvisor.com", "webvisor.org", "web-visor.com"],
         cookies=["_ym_visorc*"], urls=[r"mc\.yandex\.[a-z.]+/webvisor/"]),
    dict(id="highlight", purpose=SR, note="Highlight.io (observability with replay)",
         domains=["highlight.io", "highlight.run"]),
    dict(id="noibu", purpose=SR, note="Noibu (error monitoring with replay)", domains=["noibu.com"]),
    dict(id="uxcam-uxwizz-others", purpose=SR, note="Other recorders: UXCam, Howuku, Zipy, OpenReplay cloud, Clueify",
         domains=["uxcam.com", "howuku.com", "zipy.ai", "api.openreplay.com", "static.openreplay.com"
                  ]),
    dict(id="sentry-replay", purpose=SR, note="Sentry Session Replay bundle (replay only, not error reporting)",
         urls=[r"browser\.sentry-cdn\.com/[0-9.]+/(bundle\.)?(tracing\.)?replay(\.min)?\.js",
               r"/bundle(\.tracing)?\.replay(\.min)?\.js"]),
    dict(id="posthog-recorder", purpose=SR, note="PostHog session recording",
         urls=[r"/static/recorder(-v2)?\.js(\?|$)", r"posthog\.com/static/recorder"]),
    dict(id="datadog-session-replay", purpose=SR, note="Datadog Session Replay upload",
         urls=[r"/replay\?ddsource=", r"/api/v2/replay\?ddsource="]),
    dict(id="matomo-heatmap-session-recording", purpose=SR,
         note="Matomo HeatmapSessionRecording plugin, also on self-hosted Matomo",
         urls=[r"/HeatmapSessionRecording/(configs\.php|tracker(\.min)?\.js)"]),
    dict(id="rrweb-recorders", purpose=SR, note="rrweb-based recorders served from the site (script names)",
         urls=[r"/rrweb(-record)?(\.min)?\.js(\?|$)", r"/rrweb-all(\.min)?\.js(\?|$)"]),
]

CURATED_EMAIL = [
    # Open-tracking pixels only: click redirects are navigations, which the engine does not block.
    dict(id="mailchimp-open", purpose=EM, note="Mailchimp / Mandrill opens",
         urls=[r"\.list-manage\.com/track/open\.php\?", r"mandrillapp\.com/track/open\.php\?", r"/track/open\.php\?u="]),
    dict(id="sendgrid-open", purpose=EM, note="SendGrid opens; /wf/open also on branded link domains",
         urls=[r"/wf/open\?upn=", r"\.ct\.sendgrid\.net/"]),
    dict(id="brevo-open", purpose=EM, note="Brevo (Sendinblue) opens",
         domains=["sendibt2.com", "sendibt3.com", "sendibt4.com", "sendibw.com", "sendibm1.com", "sendibm2.com",
                  "sendibm3.com", "sp1-brevo.net"],
         urls=[r"/tr/op/[A-Za-z0-9_-]{16,}", r"/mk/op/[A-Za-z0-9_-]{16,}"]),
    dict(id="hubspot-email-open", purpose=EM, note="HubSpot email opens (marketing and sales)",
         domains=["hubspotemail.net", "hubspotstarter.net", "sidekickopen01.com", "sidekickopen02.com",
                  "sidekickopen03.com", "sidekickopen04.com", "sidekickopen05.com", "sidekickopen06.com",
                  "sidekickopen07.com", "sidekickopen08.com", "sidekickopen09.com", "sidekickopen10.com",
                  "hs-sales-engage.com"],
         urls=[r"/e2t/(o|to)/", r"/e1t/(o|to)/", r"/e3t/(o|to)/"]),
    dict(id="salesforce-marketing-cloud-open", purpose=EM, note="Salesforce Marketing Cloud (ExactTarget) and Pardot",
         domains=["exct.net", "exacttarget.com", "pardot.com"],
         urls=[r"/open\.aspx\?ffcb10-", r"/open\.aspx\?[0-9a-f]{20,}"]),
    dict(id="mailjet-open", purpose=EM, note="Mailjet opens", domains=["mjt.lu"], urls=[r"/oo/[A-Za-z0-9_-]{10,}"]),
    dict(id="klaviyo-open", purpose=EM, note="Klaviyo opens",
         domains=["trk.klaviyomail.com", "trk.klaviyo.com", "klaviyomail.com"],
         urls=[r"/open/?\?_kx=", r"klclick[0-9]?\.com/.*/open"]),
    dict(id="campaign-monitor-open", purpose=EM, note="Campaign Monitor opens",
         domains=["createsend1.com", "cmail1.com", "cmail2.com", "cmail19.com", "cmail20.com"],
         urls=[r"/t/[a-z]-o-[a-z0-9]+-[a-z0-9]+/o\.gif", r"/t/[a-z]-o-"]),
    dict(id="constant-contact-open", purpose=EM, note="Constant Contact opens", urls=[r"rs6\.net/on\.jsp\?"]),
    dict(id="amazon-ses-open", purpose=EM, note="Amazon SES open tracking (I0 is the open pixel, L0 the click)",
         domains=["awstrack.me"], urls=[r"\.awstrack\.me/I0/"]),
    dict(id="mailgun-open", purpose=EM, note="Mailgun opens (on the sender's tracking host)",
         urls=[r"^email\.[^/]+/o/[A-Za-z0-9_=-]{20,}", r"/o/eJ[A-Za-z0-9_=-]{20,}"]),
    dict(id="postmark-open", purpose=EM, note="Postmark opens", urls=[r"pstmrk\.it/open"]),
    dict(id="sparkpost-open", purpose=EM, note="SparkPost opens",
         urls=[r"\.(sparkpostmail[0-9]?|spmailtechnol|spmailtechnolo)\.com/q/"]),
    dict(id="customer-io-open", purpose=EM, note="Customer.io opens", urls=[r"/e/o/[A-Za-z0-9_-]{20,}"]),
    dict(id="activecampaign-open", purpose=EM, note="ActiveCampaign opens", urls=[r"/lt\.php\?.*&l=open"]),
    dict(id="mailerlite-open", purpose=EM, note="MailerLite opens",
         domains=["mlsend.com", "mlsend2.com"], urls=[r"/link/o/[A-Za-z0-9_-]{20,}"]),
    dict(id="zoho-campaigns-open", purpose=EM, note="Zoho Campaigns opens", domains=["maillist-manage.com",
                                                                                      "maillist-manage.eu"]),
    dict(id="sendinblue-legacy-open", purpose=EM, note="Sendinblue legacy tracker hosts",
         domains=["sendibt1.com", "sib-sender.com"]),
    dict(id="mailtrack-and-sales-tools", purpose=EM, note="Per-person open trackers (Mailtrack, Yesware, Mixmax, Streak...)",
         domains=["mailtrack.io", "t.yesware.com", "track.mixmax.com", "mailfoogae.appspot.com", "t.sidekickopen.com",
                  "bananatag.com", "getnotify.com", "didtheyreadit.com", "readnotify.com", "mailstat.us",
                  "track.getmailspring.com", "tracking.cirrusinsight.com", "t.senal.io",
                  "t.outreach.io", "mltrk.io", "emltrk.com", "email81.com",
                  "trk.superhuman.com", "r.superhuman.com", "w1.mtsvc.net"]),
    dict(id="generic-open-pixels", purpose=EM, note="Generic open-pixel URL shapes used by many senders",
         urls=[r"/email/open\?", r"/track/open/", r"/track/open\?", r"/open\.gif\?", r"/open/pixel\.gif",
               r"/beacon/email/", r"/email-open/", r"/emailopen\?"]),
]

# Email heuristics: an image fetched from an email context whose URL carries a long unique token.
EMAIL_HEURISTICS = dict(
    enabled=True,
    # The engine knows a page only by its registrable domain, so every origin stands for its whole site:
    # portals that also serve news and search (google.com, yahoo.com, orange.fr, t-online.de, web.de,
    # wp.pl...) are left out, or every image with an id on their pages would look like an email pixel.
    # Gmail, Yahoo and Outlook.com fetch message images through their own proxies anyway.
    webmail_origins=["outlook.live.com", "outlook.office.com", "outlook.office365.com", "mail.proton.me",
                     "app.tuta.com", "mail.tutanota.com", "mail.zoho.com", "mail.zoho.eu", "app.fastmail.com",
                     "posteo.de", "office.mailbox.org", "mail.laposte.net", "webmail.laposte.net", "app.hey.com",
                     "mail.infomaniak.com"],
    mail_user_agents=[r"\bThunderbird/", r"\bBetterbird/", r"Microsoft Outlook", r"\bOutlook-(iOS|Android)/",
                      r"\bms-office\b", r"\bMicrosoft Office/[0-9.]+ \(", r"\bEvolution/", r"\bKMail\b",
                      r"\bMailspring\b", r"\beM Client\b", r"\bPostbox/", r"\bAirmail\b", r"\bClaws Mail\b",
                      r"\bGeary/", r"\bSparkDesktop\b", r"\bCanary Mail\b", r"\bTrojita\b"],
    min_token_length=32,
)

# --------------------------------------------------------------------------------------------------
# Import filters.
# --------------------------------------------------------------------------------------------------

# Registrable domains never imported from the bulk lists: platforms, portals, shops, CDNs, hosting,
# login, payment, captcha and fraud-prevention services whose third-party loads are functional. Some
# lists file them under advertising or analytics because their owner also runs trackers; the trackers
# we want from those owners are listed by host in the curated tables above.
IMPORT_EXCLUDE = set("""
google.com google.org google.net g.co g.cn goo.gl gstatic.com gstatic.cn googleapis.com googleapis.cn googlecode.com
googledownloads.cn googleusercontent.com googlevideo.com youtube.com youtube-nocookie.com ytimg.com withgoogle.com
googlezip.net agnss.goog android.com 1e100.net firebase.com firebaseapp.com firebaseio.com recaptcha.net
googleweblight.in
facebook.com facebook.net fbcdn.net instagram.com cdninstagram.com whatsapp.com whatsapp.net messenger.com meta.com
twitter.com x.com twimg.com t.co twttr.com linkedin.com licdn.com pinterest.com pinimg.com tiktok.com tiktokcdn.com
snapchat.com sc-static.net snap.com reddit.com redditstatic.com redditmedia.com redd.it quora.com vk.com userapi.com
vkuservideo.net cdn-vk.com vk-cdn.net mail.ru list.ru imgsmail.ru ok.ru odnoklassniki.ru vkontakte.ru mycdn.me
microsoft.com bing.com bing.net live.com live.net msn.com office.com office.net microsoftonline.com azureedge.net
azure.com windows.net skype.com apple.com icloud.com mzstatic.com amazon.com amazon.de amazon.fr amazon.co.uk
amazon.it amazon.es amazon.nl amazon.ca amazon.co.jp amazonaws.com cloudfront.net media-amazon.com ssl-images-amazon.com
yahoo.com yahoo.net yahooapis.com yahoodns.net yahooinc.com yimg.com yimg.jp yahooapis.jp yahoo.co.jp storage-yahoo.jp
oath.cloud aol.com aolcdn.com yandex.ru yandex.com yandex.net yandex.by yandex.fr yandex.kz yandex.ua yandex.com.tr ya.ru
yastatic.net baidu.com baidustatic.com bdstatic.com qq.com gtimg.cn taobao.com alicdn.com naver.com naver.net
daum.net kakao.com line.me line-apps.com line-scdn.net rambler.ru
cloudflare.com cloudflare.net akamaihd.net akamaized.net akamai.net edgekey.net edgesuite.net fastly.net hwcdn.net
jsdelivr.net unpkg.com cdnjs.com bootstrapcdn.com elasticbeanstalk.com herokuapp.com github.io github.com
githubusercontent.com gitlab.com wordpress.com wp.com w.org squarespace.com weebly.com wix.com wixstatic.com
shopify.com shopifysvc.com shopifycdn.com myshopify.com bigcommerce.com tumblr.com txmblr.com typepad.com ucoz.net
do.am at.ua blogspot.com blogger.com medium.com substack.com scene7.com
auth0.com okta.com gigya.com janrainbackplane.com rpxnow.com arkoselabs.com areyouahuman.com hcaptcha.com kaptcha.com
datadome.co perimeterx.net sre-perim.com online-metrix.net siftscience.com signifyd.com ravelin.com trustev.com
securedtouch.com forter.com ns8.com riskified.com cardinalcommerce.com cybersource.com paypal.com paypalobjects.com
stripe.com stripe.network adyen.com braintreegateway.com klarna.com queue-it.net maxmind.com freegeoip.net
geoplugin.net pusher.com pusherapp.com algolia.com algolia.net embed.ly embedly.com wistia.com wistia.net
flowplayer.org vimeo.com vimeocdn.com dailymotion.com dmcdn.net myfonts.net typekit.net fonts.com
flickr.com staticflickr.com gravatar.com giphy.com gfycat.com element.io riot.im matrix.org gumroad.com kik.com
ask.com betterttv.net greentube.com pscp.tv spot.im st-hatena.com mixi.jp wykop.pl imgwykop.pl
acquia.com arcpublishing.com episerver.net readme.com readme.io kinja.com kinja-img.com kinja-static.com
muscache.com tiaa-cref.org sas.com turner.com warnermedia.com freedom.com pof.com strava.com flipboard.com
lflipboard.com xing.com isolarcloud.com disabled.invalid bit.ly vcita.com inbenta.com powr.io trumba.com
adobe.com salesforce.com force.com mailchimp.com chimpstatic.com list-manage.com rs6.net aweber.com sendpulse.com
infusionsoft.com keap.com bitrix24.com
ebay.com ebay.de ebayimg.com ebaystatic.com ebaydesc.com ebayclassifiedsgroup.com slatic.net mlstatic.com
classistatic.de deichmann.com madeleine.de heureka.cz idealo.com pepper.com indeed.com monster.com king.com
yellowpages.com weather.com complex.com orange.fr freenet.de congstar.de ui-portal.de wp.pl wpimg.pl tamedia.ch
sanoma.fi guj.de rcs.it rcsmediagroup.it kataweb.it persgroep.net nk.pl reastatic.net rea-group.com alexa.com
ziffdavis.com ziffdavisinternational.com ziffprod.com ziffstatic.com samsung.com samsungapps.com samsungmobile.com
samsungdm.com samsungdms.net samsungdmroute.com samsungdiroute.net samsungdive.com samsungmax.com samsungmdec.com
samsungtifa.com samsungvisioncloud.com samsungacr.com secmobilesvc.com oppomobile.com heytapdl.com heytapmobi.com
heytapmobile.com allawnos.com allawntech.com sbixby.com aibixby.com
pornhub.com phncdn.com xhamster.com xhcdn.com xhamsterlive.com xhamsterpremium.com youporn.com ypncdn.com
stripchat.com stripcdn.com stripst.com chaturbate.com highwebmedia.com livejasmin.com bongacams.com
adultfriendfinder.com cams.com mofos.com
""".split())

# The same, for every country domain of a brand (google.fr, amazon.co.uk, yahoo.co.jp, ebay.it...).
IMPORT_EXCLUDE_BRANDS = set("""
google youtube blogspot blogger yandex yahoo amazon ebay facebook instagram twitter linkedin pinterest microsoft
bing msn apple icloud baidu naver samsung
""".split())

# Hosts of excluded platforms that lists file under tracking but that pages need (sign-in, accounts,
# mail, calendars, developer docs, avatars, CAPTCHA, maps, fonts, static assets): never imported.
FUNCTIONAL_HOST_LABELS = set("""
login accounts account auth signin sso id edit mail webmail calendar developers developer docs avatars
avatar static assets cdn img images fonts maps captcha recaptcha support help my www m api smartlock
""".split())
FUNCTIONAL_HOSTS = set("""
plusone.google.com apis.google.com accounts.google.com www.google.com maps.google.com fonts.google.com
news.google.com firebase.google.com chat.google.com talk.google.com mtalk.google.com mtalk4.google.com
talk.l.google.com talkx.l.google.com findmymobile.samsung.com extmaps-api.yandex.net
auth0.com okta.com gigya.com arkoselabs.com hcaptcha.com recaptcha.net kaptcha.com areyouahuman.com datadome.co
perimeterx.net online-metrix.net siftscience.com signifyd.com ravelin.com trustev.com securedtouch.com forter.com
ns8.com riskified.com cardinalcommerce.com cybersource.com paypal.com paypalobjects.com stripe.com stripe.network
adyen.com braintreegateway.com klarna.com queue-it.net
fcm.googleapis.com firebase.googleapis.com firebaseappcheck.googleapis.com firebasedynamiclinks.googleapis.com
firebasedynamiclinks-ipv4.googleapis.com firebasedynamiclinks-ipv6.googleapis.com firebaseinstallations.googleapis.com
firebaseremoteconfig.googleapis.com firebaseinappmessaging.googleapis.com
""".split())
# AdGuard trackers that are a platform's functional service rather than tracking (its own chat hosts).
ADGUARD_SKIP = {"google_chat"}

# Cookie names never taken from a bulk source: too generic, shared by many unrelated sites, or
# records of a refusal/opt-out that must not be stripped.
COOKIE_STOP = set("""
id uid sid ssid session sessionid session_id sess user userid user_id token csrf csrftoken xsrf lang language
locale country currency cart basket test visitor visitor_id visitorid tracking referrer ref source debug
auth auth_token login remember_me remember dnt optout opt_out pref prefs preferences consent cookieconsent
""".split())
COOKIE_STOP_SUBSTR = ("consent", "optout", "opt_out", "opt-out", "optin", "ignore", "privacy", "gdpr", "cookielaw",
                      "cookie_notice", "cookienotice", "dnt")

# Platforms whose "analytics" or "marketing" rows are in fact login, paywall, chat or back-office
# cookies of their own applications: stripping them would break those applications.
OCD_PLATFORM_EXCLUDE = {"salesforce", "kentico", "tripadvisor", "cognitoforms", "sap", "piano", "intercom"}
OCD_NAME_EXCLUDE = {"europe", "auid", "opout", "pses", "lantern", "querystring", "caid", "gmid", "ucid"}

SOCIAL_PLATFORMS = {"facebook", "instagram", "linkedin", "x", "twitter", "tiktok", "pinterest", "snapchat", "snap",
                    "reddit", "vkontakte", "vk", "quora", "xing"}
REPLAY_PLATFORMS = {"hotjar", "contentsquare", "crazy egg", "inspectlet", "lucky orange", "mouseflow", "smartlook",
                    "fullstory", "clicktale", "sessioncam", "quantum metric", "glassbox", "logrocket"}

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
COOKIE_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


# --------------------------------------------------------------------------------------------------
# Public suffix list (registrable domains), so that the generator can refuse suffixes and group by owner.
# --------------------------------------------------------------------------------------------------
class Psl:
    def __init__(self, path):
        self.rules, self.wild, self.exc = set(), set(), set()
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            line = line.split()[0].encode("idna").decode("ascii") if not line.isascii() else line.split()[0]
            if line.startswith("!"):
                self.exc.add(line[1:])
            elif line.startswith("*."):
                self.wild.add(line[2:])
            else:
                self.rules.add(line)

    def is_suffix(self, d):
        if d in self.exc:
            return False
        if d in self.rules:
            return True
        parent = d.split(".", 1)[1] if "." in d else ""
        return parent in self.wild

    def registrable(self, d):
        labels = d.split(".")
        for i in range(len(labels)):
            cand = ".".join(labels[i:])
            if self.is_suffix(cand):
                return ".".join(labels[i - 1:]) if i > 0 else None
        return ".".join(labels[-2:]) if len(labels) >= 2 else None


# --------------------------------------------------------------------------------------------------
# Pack model.
# --------------------------------------------------------------------------------------------------
class Pack:
    def __init__(self, psl):
        self.psl = psl
        self.files = {}  # file -> list of trackers (ordered)
        self.domain_owner = {}  # domain -> (purpose, tracker id)
        self.cookie_owner = {}
        self.url_owner = {}
        self.ids = set()
        self.curated_registrables = set()
        self.dropped = []

    @staticmethod
    def is_functional_host(d, by_label=True):
        labels = d.split(".")
        return (by_label and labels[0] in FUNCTIONAL_HOST_LABELS) or any(".".join(labels[i:]) in FUNCTIONAL_HOSTS
                                                                         for i in range(len(labels)))

    def ancestor_claim(self, d):
        labels = d.split(".")
        for i in range(1, len(labels) - 1):
            anc = ".".join(labels[i:])
            if anc in self.domain_owner:
                return self.domain_owner[anc]
        return None

    def add(self, file, tracker, curated=False):
        tid = tracker["id"]
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", tid), tid
        if tid in self.ids:
            assert not curated, f"duplicate curated tracker id {tid}"
            n = 2
            while f"{tid}-{n}" in self.ids:
                n += 1
            tid = f"{tid}-{n}"
            tracker = dict(tracker, id=tid)
        purpose = tracker["purpose"]
        doms, cooks, urls = [], [], []
        for d in tracker.get("domains", []):
            d = d.strip().lower().rstrip(".")
            if "/" in d or not DOMAIN_RE.match(d) or d.endswith(".invalid"):
                self.dropped.append((tid, d, "not a domain"))
                continue
            if self.psl.is_suffix(d):
                self.dropped.append((tid, d, "public suffix"))
                continue
            reg = self.psl.registrable(d)
            if not curated and self.is_functional_host(d, by_label=False):
                continue
            if not curated and (reg in IMPORT_EXCLUDE or d in IMPORT_EXCLUDE or reg in self.curated_registrables
                                or (reg or "").split(".")[0] in IMPORT_EXCLUDE_BRANDS):
                # A platform's own domain stays out, but a list may name one of its hosts that does nothing
                # but track (adfox.yandex.ru, an.yandex.ru): those host-level entries are kept, unless they
                # are one of the platform's functional hosts.
                if not tracker.get("host_level") or d == reg or d in IMPORT_EXCLUDE or self.is_functional_host(d):
                    continue
            if d in self.domain_owner:
                continue
            anc = self.ancestor_claim(d)
            if anc is not None and (anc[0] == purpose or not curated):
                continue
            self.domain_owner[d] = (purpose, tid)
            doms.append(d)
        for c in tracker.get("cookies", []):
            if c in self.cookie_owner:
                continue
            if not curated and any("*" in g and fnmatch.fnmatchcase(c, g) for g in self.cookie_owner):
                continue
            self.cookie_owner[c] = (purpose, tid)
            cooks.append(c)
        for u in tracker.get("urls", []):
            if u in self.url_owner:
                continue
            self.url_owner[u] = (purpose, tid)
            urls.append(u)
        if not (doms or cooks or urls):
            return
        if curated:
            for d in doms:
                self.curated_registrables.add(self.psl.registrable(d))
        self.ids.add(tid)
        out = dict(tracker)
        out["domains"], out["cookies"], out["urls"] = doms, cooks, urls
        self.files.setdefault(file, []).append(out)


# --------------------------------------------------------------------------------------------------
# Importers.
# --------------------------------------------------------------------------------------------------
def slug(s):
    s = s.lower().replace("&", "and")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s or "x"


def sha16(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def adguard_trackers(path):
    data = json.load(open(path, encoding="utf-8"))
    by_tracker = {}
    for dom, tid in data["trackerDomains"].items():
        by_tracker.setdefault(tid, []).append(dom)
    cat_purpose = {4: AD, 3: AD, 6: AM, 101: AM, 7: SM}
    out = []
    for tid in sorted(by_tracker):
        t = data["trackers"][tid]
        purpose = None if tid in ADGUARD_SKIP else cat_purpose.get(t["categoryId"])
        if purpose is None:
            continue
        out.append(dict(id="adguard-" + slug(tid), purpose=purpose, note=f"AdGuard companiesdb: {t['name']}",
                        domains=sorted(by_tracker[tid]), host_level=True))
    return out, data.get("timeUpdated", "")


def abp_sections(path):
    """Yields (section, line) for the rules of an Adblock Plus list with '! *** easylist:' markers."""
    section = None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("! *** easylist:"):
            section = line.split(":", 1)[1].split(" ")[0]
            continue
        if not line or line.startswith("!") or line.startswith("["):
            continue
        yield section, line


HOST_RULE = re.compile(r"^\|\|([a-z0-9.-]+)\^(\$(.*))?$")


def abp_hosts(path, wanted):
    """Pure host rules (||host^ with no page-domain restriction) of the wanted sections."""
    out = {}
    for section, line in abp_sections(path):
        if section not in wanted:
            continue
        m = HOST_RULE.match(line)
        if not m:
            continue
        opts = {o for o in (m.group(3) or "").split(",") if o}
        # Resource-type or page restrictions ($ping, $script, $domain=...) narrow a rule to part of a
        # host's traffic, often a first-party site's own telemetry: such a host is not a tracker as a whole.
        if not opts <= {"third-party", "3p", "important", "all", "popup"}:
            continue
        out.setdefault(section, []).append(m.group(1))
    return out


def abp_to_re2(rule):
    """Adblock Plus network rule -> RE2 on 'host/path?query' (no scheme), or None when not expressible."""
    body = rule.split("$", 1)[0]
    if not body or body.startswith("@@") or "##" in rule or "#@#" in rule or "#?#" in rule:
        return None
    if body.startswith("/") and body.endswith("/") and len(body) > 2:
        return None  # regex rules: their syntax is JavaScript's, not RE2's
    prefix = ""
    if body.startswith("||"):
        prefix, body = r"(?:^|\.)", body[2:]
    elif body.startswith("://"):
        prefix, body = "^", body[3:]
    elif body.startswith("|"):
        return None
    suffix = ""
    if body.endswith("|"):
        suffix, body = "$", body[:-1]
    out = []
    for ch in body:
        if ch == "*":
            out.append(".*")
        elif ch == "^":
            out.append(r"(?:[^A-Za-z0-9_.%-]|$)")
        else:
            out.append(re.escape(ch))
    pat = prefix + "".join(out) + suffix
    pat = pat.replace("\\/", "/").replace("\\-", "-").replace("\\_", "_").replace("\\%", "%").replace("\\=", "=")
    pat = pat.replace("\\&", "&").replace("\\:", ":").replace("\\,", ",").replace("\\~", "~")
    if pat.startswith(".*"):
        pat = pat[2:]
    if len(pat) < 6:
        return None
    return pat


# Rules of the EasyPrivacy email section that name trackers we file under their own purpose.
EMAIL_SKIP = ("google-analytics", "facebook.com/tr", "doubleclick", "demdex", "bluekai", "mathtag", "lijit", "krxd",
              "_adobe_analytics", "_ad_impression", "2ip.", "/pixel?cid=", "/px/track?")


def email_rules(path):
    urls = []
    for _, line in abp_sections(path):
        if any(s in line for s in EMAIL_SKIP):
            continue
        p = abp_to_re2(line)
        if p:
            urls.append(p)
    return urls


def replay_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            # Only vendor, domain, role and the EasyPrivacy rule: the other columns are NC-derived.
            rows.append(dict(vendor=r["vendor"], domain=r["domain"], role=r["replay_role"]))
    return rows


def replay_url_rules(path):
    urls = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("!"):
            p = abp_to_re2(line)
            if p:
                urls.append(p)
    return urls


def ocd_cookies(path):
    """First-party measurement/marketing cookie names by platform, filtered for distinctiveness."""
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    functional = {r["Cookie / Data Key name"].strip() for r in rows
                  if r["Category"] in ("Functional", "Necessary", "Security")}
    by_platform = {}
    for r in rows:
        cat = r["Category"]
        if cat not in ("Marketing", "Analytics", "Personalization"):
            continue
        if r["Domain"].strip():
            continue  # set on a tracker's own domain: the domain rule already covers it
        name = r["Cookie / Data Key name"].strip()
        if name in functional or not COOKIE_TOKEN_RE.match(name) or "*" in name:
            continue
        low = name.lower()
        if low in COOKIE_STOP or any(s in low for s in COOKIE_STOP_SUBSTR):
            continue
        core = name.rstrip("_-.")
        if len(core) < 4:
            continue
        pattern = name + "*" if r["Wildcard match"].strip() == "1" else name
        plat = r["Platform"].strip()
        pl = plat.lower()
        if pl in OCD_PLATFORM_EXCLUDE or low in OCD_NAME_EXCLUDE:
            continue
        if pl == "qualtrics" and not name.startswith("QSI_"):
            continue
        if pl in SOCIAL_PLATFORMS or pl.split(" ")[0] in SOCIAL_PLATFORMS:
            purpose = SM
        elif any(p in pl for p in REPLAY_PLATFORMS):
            purpose = SR
        elif cat == "Analytics":
            purpose = AM
        elif cat == "Personalization":
            purpose = CP
        else:
            purpose = ADP
        by_platform.setdefault((plat, purpose), []).append(pattern)
    out, seen = [], set()
    for (plat, purpose), cookies in sorted(by_platform.items()):
        tid = "ocd-" + slug(plat)
        if tid in seen:
            tid += "-" + purpose
        seen.add(tid)
        out.append(dict(id=tid, purpose=purpose, note=f"Open Cookie Database: {plat}", cookies=sorted(set(cookies))))
    return out


# --------------------------------------------------------------------------------------------------
# YAML output.
# --------------------------------------------------------------------------------------------------
def q(s):
    return "'" + s.replace("'", "''") + "'"


def flow(items, indent, width=110):
    if not items:
        return "[]"
    lines, cur = [], "["
    pad = " " * indent
    for i, it in enumerate(items):
        tok = q(it) + ("," if i + 1 < len(items) else "]")
        if len(cur) + len(tok) + 1 > width and cur != "[":
            lines.append(cur)
            cur = pad + tok
        else:
            cur = cur + ("" if cur == "[" or cur.endswith("[") else " ") + tok
    lines.append(cur)
    return "\n".join(lines)


def emit(file, title, sources, trackers, extra=""):
    out = [f"# {title}", f"# consentgate default policy pack, version {PACK_VERSION}. Generated by scripts/gen-pack.py:",
           "# edit the generator or its curated tables, not this file. Licences: config/policies/SOURCES.md."]
    for s in sources:
        out.append(f"# source: {s}")
    out.append("")
    out.append("trackers:")
    for t in trackers:
        out.append(f"  - id: {t['id']}")
        out.append(f"    purpose: {t['purpose']}")
        if t.get("note"):
            out.append(f"    # {t['note']}")
        if t.get("source"):
            out.append(f"    source: {q(t['source'])}")
        if t.get("first_party_only"):
            out.append("    first_party_only: true")
        for key in ("domains", "cookies", "urls"):
            if t[key]:
                out.append(f"    {key}: " + flow(t[key], 6))
    if extra:
        out.append("")
        out.append(extra.rstrip())
    return "\n".join(out) + "\n"


def email_block():
    e = EMAIL_HEURISTICS
    lines = ["# Heuristics for open pixels of unknown senders: an image fetched from an email context (a webmail",
             "# page, a mail client's User-Agent, or no Referer) whose URL carries a token at least",
             "# min_token_length long. 32 rather than 20: hashed asset names (webpack's 20-hex contenthash) are",
             "# common on ordinary pages fetched without a Referer.",
             "email:",
             f"  enabled: {'true' if e['enabled'] else 'false'}",
             f"  min_token_length: {e['min_token_length']}",
             "  webmail_origins: " + flow(e["webmail_origins"], 4),
             "  mail_user_agents: " + flow(e["mail_user_agents"], 4)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="the shared/data folder")
    ap.add_argument("--easylist", required=True, help="easylist.txt from the Debian uBlock Origin package")
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-easylist-adservers", action="store_true", help="leave out the 45k EasyList ad servers")
    # Not shipped by default: 23k first-party host names cost a third of the pack's load time, and the
    # CNAME resolver (issue 5) recognises cloaked trackers by their chain's target, which the pack lists.
    ap.add_argument("--cname", action="store_true", help="also write cname-cloaking.yaml (EasyPrivacy CNAME lists)")
    args = ap.parse_args()
    sd = args.shared
    psl = Psl(os.path.join(sd, "publicsuffix", "public_suffix_list.dat"))
    pack = Pack(psl)
    ep_path = os.path.join(sd, "easyprivacy", "easyprivacy.txt")
    ag_path = os.path.join(sd, "adguard-companiesdb", "trackers.json")
    ocd_path = os.path.join(sd, "open-cookie-database", "open-cookie-database.csv")
    replay_csv = os.path.join(sd, "session-replay", "session_replay_domains.csv")
    replay_urls = os.path.join(sd, "session-replay", "session_replay_url_patterns.txt")
    email_path = os.path.join(sd, "email-trackers", "easyprivacy_emailtrackers.txt")

    # 1. Curated rules first: they win every later claim on a domain, cookie or URL.
    for file, table in (("session-replay", CURATED_REPLAY), ("email-tracking", CURATED_EMAIL),
                        ("social", CURATED_SOCIAL), ("analytics", CURATED_ANALYTICS),
                        ("advertising", CURATED_ADVERTISING)):
        for t in table:
            t = dict(t)
            t["source"] = "own (consentgate maintainers)"
            if file == "analytics" and t["purpose"] in (ADP, AD):
                target = "advertising"
            else:
                target = file
            pack.add(target, t, curated=True)

    # 2. Session replay vendors of the shared compiled list that we did not curate.
    for r in replay_rows(replay_csv):
        purpose = SR if r["role"] == "primary" else None
        if purpose is None:
            continue
        pack.add("session-replay", dict(id="replay-" + slug(r["vendor"]) + "-" + slug(r["domain"]), purpose=SR,
                                        note=f"{r['vendor']} ({r['role']})", domains=[r["domain"]],
                                        source="session_replay_domains.csv (vendor/domain columns)"), curated=True)
    pack.add("session-replay", dict(id="easyprivacy-replay-urls", purpose=SR,
                                    note="first-party recorder scripts and replay upload endpoints",
                                    urls=replay_url_rules(replay_urls), source="EasyPrivacy"))

    # 3. Email open pixels from EasyPrivacy's email section.
    pack.add("email-tracking", dict(id="easyprivacy-email", purpose=EM,
                                    note="EasyPrivacy general_emailtrackers, $image restrictions dropped",
                                    urls=email_rules(email_path), source="EasyPrivacy"))

    # 4. Cookie names from the Open Cookie Database (first-party, distinctive names only).
    for t in ocd_cookies(ocd_path):
        file = {AM: "analytics", CP: "analytics", SM: "social", SR: "session-replay"}.get(t["purpose"], "advertising")
        t["source"] = "Open Cookie Database"
        pack.add(file, t)

    # 5. AdGuard companiesdb by category.
    ag, ag_time = adguard_trackers(ag_path)
    for t in ag:
        file = {AM: "analytics", SM: "social"}.get(t["purpose"], "advertising")
        t["source"] = "AdGuard companiesdb"
        pack.add(file, t)

    # 6. EasyPrivacy tracking servers, then EasyList ad servers.
    ep_map = {
        "easyprivacy/easyprivacy_trackingservers_general.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_trackingservers_thirdparty.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_trackingservers.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_trackingservers_international.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_thirdparty.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_thirdparty_international.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_specific.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_specific_international.txt": ("analytics", AM),
        "easyprivacy/easyprivacy_trackingservers_admiral.txt": ("advertising", AD),
    }
    cname_map = {
        "adobe": AM, "at-internet": AM, "eulerian": AM, "webtrekk": AM, "commanders-act": AM, "plausible": AM,
        "tracedock": AM, "dataunlocker": AM, "wizaly": AM, "keyade": ADP, "otto": AM, "a8net": ADP, "criteo": ADP,
        "ad-ebis": ADP, "acton": ADP, "oracle": ADP, "np6": ADP, "ingenious-technologies": ADP,
        "lead-forensics": ADP, "branch": ADP,
    }
    for sec, hosts in abp_hosts(ep_path, set(ep_map)).items():
        file, purpose = ep_map[sec]
        name = sec.split("/")[-1].replace(".txt", "").replace("_", "-")
        pack.add(file, dict(id=name, purpose=purpose, note=f"EasyPrivacy {sec}", domains=hosts, source="EasyPrivacy",
                            host_level=True))
    el_secs = {"easylist/easylist_adservers.txt", "easylist/easylist_adservers_popup.txt",
               "easylist_adult/adult_adservers.txt", "easylist_adult/adult_adservers_popup.txt",
               "easylist/easylist_thirdparty.txt", "easylist/easylist_thirdparty_popup.txt"}
    if args.no_easylist_adservers:
        el_secs = {s for s in el_secs if "adservers" not in s}
    for sec, hosts in abp_hosts(args.easylist, el_secs).items():
        name = sec.split("/")[-1].replace(".txt", "").replace("_", "-")
        pack.add("advertising", dict(id=name, purpose=AD, note=f"EasyList {sec}", domains=hosts, source="EasyList",
                                     host_level=True))
    if args.cname:
        # Only the advertising vendors: a CNAME-cloaked measurement host is first-party by its name, where
        # the audience-measurement exemption applies, so listing it would change no decision until the
        # CNAME chain itself is judged (issue 5, "CNAME cloaking"), and it would cost load time.
        cname_secs = {f"easyprivacy/easyprivacy_specific_cname_{k}.txt": v for k, v in cname_map.items() if v != AM}
        for sec, hosts in abp_hosts(ep_path, set(cname_secs)).items():
            vendor = sec.split("cname_")[1].replace(".txt", "")
            pack.add("cname-cloaking", dict(id="cname-" + vendor, purpose=cname_secs[sec],
                                            note=f"first-party sub-domains delegated by CNAME to {vendor}",
                                            domains=hosts, source="EasyPrivacy"))

    ep_sha, el_sha, ag_sha, ocd_sha = sha16(ep_path), sha16(args.easylist), sha16(ag_path), sha16(ocd_path)
    common = {
        "own": "own knowledge of the vendors' documented hosts, cookies and paths (consentgate maintainers)",
        "ep": f"EasyPrivacy (uBlock Origin 1.67.0 Debian package), sha256 {ep_sha}, GPL-3.0+ or CC BY-SA 3.0+",
        "el": f"EasyList (uBlock Origin 1.67.0 Debian package), sha256 {el_sha}, GPL-3.0+ or CC BY-SA 3.0+",
        "ag": f"AdGuard companiesdb trackers.json {ag_time}, sha256 {ag_sha}, CC BY-SA 4.0",
        "ocd": f"Open Cookie Database, commit 0ee5a17f, sha256 {ocd_sha}, Apache-2.0",
        "sr": "session_replay_domains.csv compiled 2026-11-22 (vendor/domain/EasyPrivacy columns only)",
    }
    files = {
        "analytics": ("Audience measurement by third parties, A/B testing and personalisation tools",
                      ["own", "ocd", "ag", "ep"], ""),
        "advertising": ("Advertising networks, exchanges, DMPs, identity graphs, affiliate and geolocated advertising",
                        ["own", "ocd", "ag", "ep", "el"], ""),
        "social": ("Social networks' pixels, plugins and share widgets", ["own", "ocd", "ag"], ""),
        "session-replay": ("Session replay: recorder scripts, upload endpoints and cookies, plus first-party signatures",
                           ["own", "sr", "ep", "ocd"], ""),
        "email-tracking": ("Email open-tracking pixels of email service providers, and the email heuristics",
                           ["own", "ep"], email_block()),
        "cname-cloaking": ("Known first-party sub-domains that CNAME to trackers (recognised without DNS)", ["ep"], ""),
    }
    # A domain whose parent carries the same purpose adds nothing (curated lists name both at times).
    for trackers in pack.files.values():
        for t in trackers:
            t["domains"] = [d for d in t["domains"]
                            if not ((anc := pack.ancestor_claim(d)) is not None and anc[0] == t["purpose"])]
    for trackers in pack.files.values():
        trackers[:] = [t for t in trackers if t["domains"] or t["cookies"] or t["urls"]]

    # The false-positive list of the tests must stay clean: fail here rather than in CI.
    fp_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "pack", "first_party_hosts.txt")
    judged = []
    for line in open(fp_file, encoding="utf-8"):
        host = line.strip()
        if not host or host.startswith("#"):
            continue
        labels = host.split(".")
        for i in range(len(labels) - 1):
            owner = pack.domain_owner.get(".".join(labels[i:]))
            if owner:
                judged.append(f"{host} -> {owner[1]} ({owner[0]})")
                break
    if judged:
        sys.exit("ordinary first-party hosts judged as trackers:\n  " + "\n  ".join(judged))

    os.makedirs(args.out, exist_ok=True)
    stats = {}
    for name, trackers in pack.files.items():
        title, srcs, extra = files[name]
        text = emit(name, title, [common[s] for s in srcs], trackers, extra)
        with open(os.path.join(args.out, name + ".yaml"), "w", encoding="utf-8") as f:
            f.write(text)
        stats[name] = (len(trackers), sum(len(t["domains"]) for t in trackers),
                       sum(len(t["cookies"]) for t in trackers), sum(len(t["urls"]) for t in trackers), len(text))
    for name, (n, d, c, u, size) in sorted(stats.items()):
        print(f"{name:16s} trackers {n:5d} domains {d:6d} cookies {c:5d} urls {u:4d} bytes {size:8d}")
    for tid, d, why in pack.dropped:
        print(f"dropped {tid}: {d} ({why})", file=sys.stderr)


if __name__ == "__main__":
    main()

// URL canonicalisation: one spelling per article URL, so that tracking links, AMP / mobile variants and
// encoding differences of the same page get the same article id.
#pragma once
#include <string>
#include <string_view>

namespace baotin {

// Canonical form of an http(s) URL. Returns "" if `url` is not an absolute http(s) URL (or has no host), or when
// the URL or its canonical form is longer than limits::kMaxUrlBytes (8 KiB). Idempotent: c(c(x)) == c(x).
//  * scheme and host lower-case; userinfo, fragment and default ports (:80 for http, :443 for https) dropped;
//    trailing dot of the host dropped; the scheme itself is kept (http stays http).
//  * IDN hosts: Unicode (or percent-encoded) host names are converted with UTS #46 to lower-case ASCII
//    ("xn--..."), so "Bücher.de", "BÜCHER.de" and "xn--bcher-kva.de" are one host. Invalid IDNs are returned
//    lower-cased as given.
//  * mobile / AMP hosts mapped to the desktop host: a leading "www.", "m.", "mobile.", "amp." label is removed
//    (never when what remains would be a bare public suffix such as "com.vn").
//  * AMP paths: a "/amp" path segment (anywhere) and a ".amp" suffix of the last segment are removed; query
//    parameters "amp" (any value) and "outputType=amp" are removed.
//  * tracking parameters removed: utm_*, itm_*, vn_* (VnExpress), fbclid, gclid, dclid, gbraid, wbraid, msclkid,
//    yclid, twclid, ttclid, igshid, zarsrc, zacc, gidzl, _ga, _gl, _hsenc, _hsmi, mc_cid, mc_eid, ref, ref_src,
//    ref_url, cmpid, ocid, ncid, s_cid, spm, fb_action_ids, fb_action_types, fb_source, fb_ref, mkt_tok,
//    xtor and at_* (AT Internet). Parameter names are matched case-insensitively.
//  * remaining parameters sorted by name then value (stable), empty ones ("a=1&&b") dropped, "?" dropped when
//    nothing is left.
//  * path: dot segments resolved, runs of "/" collapsed, a trailing "/" removed (except for the root "/"),
//    empty path -> "/".
//  * percent-encoding: escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) decoded, other escapes upper-case
//    hex, raw bytes that must be escaped (space, controls, non-ASCII UTF-8, "<>\"^`{|}") escaped. '+' is kept.
std::string canonicalize_url(std::string_view url);

// Registrable domain ("site") of a host: the last two labels, or three when the last two are a known public
// suffix (com.vn, gov.vn, co.uk, ...). "m.vnexpress.net" -> "vnexpress.net", "tuoitre.vn" -> "tuoitre.vn",
// "cafef.com.vn"... IP addresses are returned as is. "" for "".
std::string registrable_domain(std::string_view host);

// The canonical URL of a page: `link_canonical` (<link rel=canonical>), else `og_url` (og:url), each resolved
// against `fetched_url`, when it is an http(s) URL on the same registrable site as the fetched URL and does not
// point to the site root while the fetched page is not the root (a common CMS bug); else the fetched URL.
// Always canonicalised. "" when no usable URL exists (fetched URL not http(s) and no absolute candidate).
std::string choose_canonical(std::string_view fetched_url, std::string_view link_canonical, std::string_view og_url);

}  // namespace baotin

//! `GET /ui`: a read-only status page for people, rendered on the server from the very
//! document `GET /status` serves (so it shows nothing `/status` does not). No
//! JavaScript and no assets from anywhere: the filter box is a GET form
//! (`/ui?filter=web`), pages refresh themselves every 5 s, fit a phone and are built
//! from headings, tables and lists a screen reader can walk.
//!
//! # Layout
//! - this file: what both pages share (escaping, the query, the style, the frame);
//! - [`overview`]: `/ui`, one section per application (a Service with its target
//!   groups, rules and scaling underneath), its status line, a deployment's traffic
//!   bar and the line to commit at a pause, and the last events;
//! - [`object`]: `/ui/object/KIND/NAME`, one object's diff, health details (targets by
//!   state with AWS's reasons, alarms, scaling bounds and activities) and history.

pub(crate) mod object;
pub(crate) mod overview;

pub(crate) use object::object_page;
pub(crate) use overview::page;

use serde_json::Value;

/// How often the page reloads itself, in seconds.
pub(super) const REFRESH_SECONDS: u32 = 5;

/// Text for HTML: `& < > " '` escaped.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// The value of `filter` in a query string (`a=b&filter=web+api`), decoded.
pub(crate) fn filter_of(query: Option<&str>) -> String {
    param_of(query, "filter")
}

/// The decoded value of the query parameter `key` (empty when absent): `filter`, and
/// `target` on an object's page in a source with deployment targets (*added*).
pub(crate) fn param_of(query: Option<&str>, key: &str) -> String {
    let Some(q) = query else {
        return String::new();
    };
    q.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| decode(v))
        .unwrap_or_default()
}

/// Percent-decoding of a query value (`+` is a space); invalid escapes stay as they are.
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match v
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether an object row matches the filter: every word of it appears (any case) in its
/// kind, name, sync, health or message.
pub(super) fn matches(object: &Value, filter: &str) -> bool {
    let hay = ["kind", "name", "sync", "health", "message"]
        .iter()
        .map(|k| field(object, k).to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    filter
        .split_whitespace()
        .all(|w| hay.contains(&w.to_lowercase()))
}

/// The pending diff of an object, one line per field: `path: from → to`.
pub(super) fn diff_text(object: &Value) -> Option<String> {
    let lines: Vec<String> = object["diff"]
        .as_array()?
        .iter()
        .map(|d| format!("{}: {} → {}", field(d, "path"), d["from"], d["to"]))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

pub(super) const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:1em;color:#1b1f24;background:#fff}\
h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.2em 0 .3em}h3{font-size:1em;margin:1em 0 .3em}\
header p{margin:.1em 0;color:#444;word-break:break-all}a{color:#0550ae}\
form{margin:1em 0}input[type=search]{font-size:1em;padding:.4em;width:16em;max-width:70%}\
button{font-size:1em;padding:.4em .8em}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f3f4f6}td.msg{word-break:break-word;max-width:40em}\
section.app{border:1px solid #d0d7de;border-radius:6px;padding:.2em .8em .6em;margin:1em 0}\
p.line{margin:.2em 0}.warn{color:#7d4e00}\
.bar{display:flex;align-items:center;gap:.6em}progress{width:14em;max-width:60%;height:1em}\
.Synced{color:#116329}.OutOfSync{color:#7d4e00}.Error{color:#cf222e;font-weight:bold}\
.Healthy{color:#116329}.Progressing{color:#0550ae}.Degraded{color:#cf222e;font-weight:bold}.Unknown{color:#57606a}\
pre,code.commit{white-space:pre-wrap;margin:.3em 0;background:#f6f8fa;padding:.4em;display:block}\
ol{padding-left:1.2em}li{margin:.2em 0}.count{color:#57606a}\
@media (max-width:700px){table,tbody,tr,td{display:block}thead{display:none}\
tr{border-bottom:1px solid #ddd;padding:.4em 0}td{border:none;padding:.1em 0;display:inline-block;margin-right:.6em}\
td.msg{display:block;max-width:none}td.opt{display:none}}";

/// The document around a page's body: language, viewport, a self-refresh, the title.
pub(super) fn frame(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
<link rel=\"icon\" href=\"data:,\"><title>{}</title><style>{STYLE}</style></head>\
<body>{body}</body></html>\n",
        esc(title)
    )
}

/// The link to an object's page (with its deployment target, when it has one: the same
/// name may live in several).
pub(super) fn object_href(o: &Value) -> String {
    let href = format!(
        "/ui/object/{}/{}",
        esc(field(o, "kind")),
        esc(field(o, "name"))
    );
    match o["target"].as_str() {
        Some(t) => format!("{href}?target={}", esc(t)),
        None => href,
    }
}

/// The object a `/ui/object/KIND/NAME` path names.
pub(crate) fn object_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/ui/object/")?;
    let (kind, name) = rest.split_once('/')?;
    (!kind.is_empty() && !name.is_empty()).then(|| (decode(kind), decode(name)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_page_escapes_filters_and_shows_diffs() {
        let doc = json!({
            "source": "./manifests", "revision": "abc",
            "objects": [
                {"kind": "Service", "name": "web", "sync": "OutOfSync", "health": "Healthy",
                 "message": "differs at desiredCount", "diff": [{"path": "desiredCount", "from": 3, "to": 2}]},
                {"kind": "TargetGroup", "name": "<api>", "sync": "Synced", "health": "Healthy", "message": "in sync"},
            ],
            "applications": [
                {"name": "web", "sync": "OutOfSync", "health": "Progressing", "running": 2, "desired": 2,
                 "taskDefinition": "web:7", "objects": ["Service/web"],
                 "deployment": {"strategy": "canary", "id": "Sd7", "status": "IN_PROGRESS",
                                "stage": "PRODUCTION_TRAFFIC_SHIFT", "productionPercent": 10.0}},
                {"name": "<api>", "sync": "Synced", "health": "Healthy", "objects": ["TargetGroup/<api>"]},
            ],
            "errors": [], "events": [{"at": "2026-11-26T19:00:00Z", "kind": "Service", "name": "web", "what": "out of sync", "detail": "x"}],
        });
        let all = page(&doc, "");
        assert!(all.contains("2 of 2 objects"));
        assert!(all.contains("desiredCount: 3 → 2"));
        assert!(all.contains("&lt;api&gt;") && !all.contains("<api>"));
        let some = page(&doc, "targetgroup");
        assert!(some.contains("1 of 2 objects") && !some.contains("data-name=\"web\""));
        assert_eq!(filter_of(Some("x=1&filter=web%20api+x")), "web api x");
        assert_eq!(filter_of(Some("filter=%zz")), "%zz");
        assert_eq!(filter_of(None), "");
        // Grouped: the application's line, its traffic bar.
        assert!(all.contains("<section class=\"app\" data-application=\"web\""));
        assert!(all.contains("2/2 tasks running"));
        assert!(all.contains("value=\"10\"") && all.contains("10% of production traffic"));
    }

    #[test]
    fn an_object_page_shows_its_approval_line_details_and_history() {
        let doc = json!({
            "revision": "abc",
            "objects": [{
                "kind": "Service", "name": "web", "sync": "Synced", "health": "Progressing",
                "message": "awaiting approval", "application": "web",
                "awaitingApproval": {"deployment": "Sd7", "hook": "h1", "stage": "POST_TEST_TRAFFIC_SHIFT",
                                     "approve": "approve: Sd7", "rollback": "rollback: Sd7"},
                "details": {"alarms": [{"name": "web-5xx", "state": "ALARM", "reason": "Threshold Crossed", "since": 0}]},
                "history": [{"at": "2026-11-26T19:00:00Z", "revision": "c0ffee", "action": "updated", "result": "applied"}],
            }],
        });
        let page = object_page(&doc, "Service", "web").expect("the object's page");
        assert!(
            page.contains("<code class=\"commit approve\">approve: Sd7</code>"),
            "{page}"
        );
        assert!(page.contains("web-5xx") && page.contains("ALARM"));
        assert!(page.contains("<code>c0ffee</code>"));
        assert!(object_page(&doc, "Service", "api").is_none());
        assert_eq!(
            object_path("/ui/object/TargetGroup/web-blue"),
            Some(("TargetGroup".into(), "web-blue".into()))
        );
        assert_eq!(object_path("/ui/object/TargetGroup"), None);
    }

    #[test]
    fn rfc3339_dates_are_civil_dates() {
        assert_eq!(ecsd_runtime::status::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            ecsd_runtime::status::rfc3339(1_795_722_059),
            "2026-11-26T19:40:59Z"
        );
    }
}

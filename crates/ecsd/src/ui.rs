//! `GET /ui`: a read-only status page for people, rendered on the server from the very
//! document `GET /status` serves (so it shows nothing `/status` does not): the source
//! and its revision, the leader, one row per object (kind, name, sync, health, message,
//! last change, AWS error code) with the pending diff of an OutOfSync object, and the
//! last events. No JavaScript and no assets from anywhere: the filter box is a GET
//! form (`/ui?filter=web`), the page refreshes itself every 5 s, and it fits a phone.

use serde_json::Value;

/// How often the page reloads itself, in seconds.
const REFRESH_SECONDS: u32 = 5;

/// Text for HTML: `& < > " '` escaped.
fn esc(text: &str) -> String {
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

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// The value of `filter` in a query string (`a=b&filter=web+api`), decoded.
pub(crate) fn filter_of(query: Option<&str>) -> String {
    let Some(q) = query else {
        return String::new();
    };
    q.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "filter")
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
fn matches(object: &Value, filter: &str) -> bool {
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
fn diff_text(object: &Value) -> Option<String> {
    let lines: Vec<String> = object["diff"]
        .as_array()?
        .iter()
        .map(|d| format!("{}: {} → {}", field(d, "path"), d["from"], d["to"]))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:1em;color:#1b1f24;background:#fff}\
h1{font-size:1.3em;margin:0 0 .3em}header p{margin:.1em 0;color:#444;word-break:break-all}\
form{margin:1em 0}input[type=search]{font-size:1em;padding:.4em;width:16em;max-width:70%}\
button{font-size:1em;padding:.4em .8em}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f3f4f6}td.msg{word-break:break-word;max-width:40em}\
.Synced{color:#116329}.OutOfSync{color:#9a6700}.Error{color:#cf222e;font-weight:bold}\
.Healthy{color:#116329}.Progressing{color:#0969da}.Degraded{color:#cf222e;font-weight:bold}.Unknown{color:#57606a}\
pre{white-space:pre-wrap;margin:.3em 0;background:#f6f8fa;padding:.4em}\
ol{padding-left:1.2em}li{margin:.2em 0}.count{color:#57606a}\
@media (max-width:700px){table,tbody,tr,td{display:block}thead{display:none}\
tr{border-bottom:1px solid #ddd;padding:.4em 0}td{border:none;padding:.1em 0;display:inline-block;margin-right:.6em}\
td.msg{display:block;max-width:none}td.opt{display:none}}";

/// The page for the `/status` document `doc`, filtered by `filter`.
pub(crate) fn page(doc: &Value, filter: &str) -> String {
    let objects: Vec<&Value> = doc["objects"].as_array().into_iter().flatten().collect();
    let shown: Vec<&Value> = objects
        .iter()
        .copied()
        .filter(|o| matches(o, filter))
        .collect();
    let mut html = String::new();
    html.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    html.push_str(&format!(
        "<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">"
    ));
    html.push_str("<link rel=\"icon\" href=\"data:,\"><title>ecsd status</title>");
    html.push_str(&format!("<style>{STYLE}</style></head><body>"));
    html.push_str("<header><h1>ecsd</h1>");
    html.push_str(&format!(
        "<p>source: <code id=\"source\">{}</code></p>",
        esc(field(doc, "source"))
    ));
    html.push_str(&format!(
        "<p>revision: <code id=\"revision\">{}</code></p>",
        esc(field(doc, "revision"))
    ));
    if doc.get("lease").is_some() {
        html.push_str(&format!(
            "<p>leader: <code id=\"leader\">{}</code> (this replica: {}, {})</p>",
            esc(doc["leader"].as_str().unwrap_or("none yet")),
            esc(field(doc, "replica")),
            esc(field(&doc["lease"], "role"))
        ));
    }
    html.push_str("</header>");
    html.push_str(&format!(
        "<form method=\"get\" action=\"/ui\"><input type=\"search\" name=\"filter\" value=\"{}\" placeholder=\"filter: kind, name, sync, health, text\" aria-label=\"filter\"> <button type=\"submit\">Filter</button></form>",
        esc(filter)
    ));
    html.push_str(&format!(
        "<p class=\"count\" id=\"count\">{} of {} objects</p>",
        shown.len(),
        objects.len()
    ));
    html.push_str("<table id=\"objects\"><thead><tr><th>kind</th><th>name</th><th>sync</th><th>health</th><th>message</th><th class=\"opt\">last change</th><th class=\"opt\">AWS error</th></tr></thead><tbody>");
    for o in &shown {
        let (sync, health) = (field(o, "sync"), field(o, "health"));
        html.push_str(&format!(
            "<tr data-kind=\"{kind}\" data-name=\"{name}\"><td>{kind}</td><td>{name}</td><td class=\"sync {sync}\">{sync}</td><td class=\"health {health}\">{health}</td><td class=\"msg\">{message}",
            kind = esc(field(o, "kind")),
            name = esc(field(o, "name")),
            sync = esc(sync),
            health = esc(health),
            message = esc(field(o, "message")),
        ));
        if let Some(diff) = diff_text(o) {
            html.push_str(&format!(
                "<details open><summary>pending diff</summary><pre class=\"diff\">{}</pre></details>",
                esc(&diff)
            ));
        }
        html.push_str(&format!(
            "</td><td class=\"opt\">{}</td><td class=\"opt\">{}</td></tr>",
            esc(field(o, "lastChange")),
            esc(field(o, "errorCode"))
        ));
    }
    html.push_str("</tbody></table>");
    let errors: Vec<&str> = doc["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !errors.is_empty() {
        html.push_str("<h2>Errors</h2><ul id=\"errors\">");
        for e in errors {
            html.push_str(&format!("<li>{}</li>", esc(e)));
        }
        html.push_str("</ul>");
    }
    html.push_str("<h2>Last events</h2><ol id=\"events\" reversed>");
    for e in doc["events"].as_array().into_iter().flatten().rev() {
        html.push_str(&format!(
            "<li><code>{}</code> {}/{}: {} — {}</li>",
            esc(field(e, "at")),
            esc(field(e, "kind")),
            esc(field(e, "name")),
            esc(field(e, "what")),
            esc(field(e, "detail"))
        ));
    }
    html.push_str("</ol></body></html>\n");
    html
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

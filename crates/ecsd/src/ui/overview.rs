//! `/ui`: one section per application, worst first by nothing but name order (the
//! status line says which are unwell): the application's status line (sync, health,
//! tasks, revision), a deployment under way with its traffic bar, the exact line to
//! commit at a pause, then its objects (kind, name linking to the object's page, sync,
//! health, message with warnings and pending diff). Then errors and the last events.

use serde_json::Value;

use super::{diff_text, esc, field, frame, matches, object_href};

/// The deployment under way of an application: strategy, stage and a bar of the
/// production traffic on the new revision (with its number, for those who cannot see
/// the bar).
pub(super) fn deployment_bar(d: &Value) -> String {
    let mut html = format!(
        "<p class=\"line deployment\">deploying: {} {}",
        esc(field(d, "strategy")),
        esc(field(d, "status"))
    );
    if let Some(id) = d["id"].as_str() {
        html.push_str(&format!(" <code>{}</code>", esc(id)));
    }
    if let Some(stage) = d["stage"].as_str() {
        html.push_str(&format!(
            ", stage <span class=\"stage\">{}</span>",
            esc(stage)
        ));
    }
    html.push_str("</p>");
    if let Some(p) = d["productionPercent"].as_f64() {
        let p = p.clamp(0.0, 100.0);
        html.push_str(&format!(
            "<p class=\"bar\"><progress class=\"traffic\" max=\"100\" value=\"{p}\" aria-label=\"production traffic on the new revision\">{p}%</progress> <span class=\"share\">{p}% of production traffic on the new revision</span></p>"
        ));
    }
    html
}

/// The lines to commit for a paused deployment.
pub(super) fn approval(a: &Value) -> String {
    format!(
        "<div class=\"approval\"><p class=\"line\">Paused at {stage} (hook <code>{hook}</code>{timeout}). To continue it, commit under <code>spec.deployment</code>:</p>\
<code class=\"commit approve\">{approve}</code><p class=\"line\">or, to roll it back:</p><code class=\"commit rollback\">{rollback}</code></div>",
        stage = esc(a["stage"].as_str().unwrap_or("a pause")),
        hook = esc(field(a, "hook")),
        timeout = match (a["expiresAt"].as_str(), a["timeoutAction"].as_str()) {
            (Some(at), Some(action)) => format!("; at {} ECS will {}", esc(at), esc(action)),
            _ => String::new(),
        },
        approve = esc(field(a, "approve")),
        rollback = esc(field(a, "rollback")),
    )
}

/// One object's row.
fn row(o: &Value) -> String {
    let (kind, name) = (field(o, "kind"), field(o, "name"));
    let (sync, health) = (esc(field(o, "sync")), esc(field(o, "health")));
    let mut html = format!(
        "<tr data-kind=\"{k}\" data-name=\"{n}\"><td>{k}{target}</td><td><a href=\"{href}\">{n}</a></td><td class=\"sync {sync}\">{sync}</td><td class=\"health {health}\">{health}</td><td class=\"msg\">{message}",
        k = esc(kind),
        n = esc(name),
        href = object_href(o),
        target = o["target"]
            .as_str()
            .map(|t| format!(" <span class=\"target\">({})</span>", esc(t)))
            .unwrap_or_default(),
        message = esc(field(o, "message")),
    );
    for w in o["warnings"].as_array().into_iter().flatten() {
        html.push_str(&format!(
            "<br><span class=\"warn\">warning: {}</span>",
            esc(w.as_str().unwrap_or_default())
        ));
    }
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
    html
}

/// The page for the `/status` document `doc`, filtered by `filter`.
pub(crate) fn page(doc: &Value, filter: &str) -> String {
    let objects: Vec<&Value> = doc["objects"].as_array().into_iter().flatten().collect();
    let shown: Vec<&Value> = objects
        .iter()
        .copied()
        .filter(|o| matches(o, filter))
        .collect();
    let mut html = String::from("<header><h1>ecsd</h1>");
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
    html.push_str("</header><main>");
    html.push_str(&format!(
        "<form method=\"get\" action=\"/ui\" role=\"search\"><input type=\"search\" name=\"filter\" value=\"{}\" placeholder=\"filter: kind, name, sync, health, text\" aria-label=\"filter\"> <button type=\"submit\">Filter</button></form>",
        esc(filter)
    ));
    html.push_str(&format!(
        "<p class=\"count\" id=\"count\">{} of {} objects</p>",
        shown.len(),
        objects.len()
    ));
    for app in doc["applications"].as_array().into_iter().flatten() {
        let members: Vec<&Value> = app["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                // With deployment targets an application lives in one target.
                shown.iter().copied().find(|o| {
                    o["target"] == app["target"]
                        && m.as_str() == Some(&format!("{}/{}", field(o, "kind"), field(o, "name")))
                })
            })
            .collect();
        if members.is_empty() {
            continue;
        }
        let name = field(app, "name");
        let (sync, health) = (esc(field(app, "sync")), esc(field(app, "health")));
        let (id, title) = match app["target"].as_str() {
            Some(t) => (
                format!("{t}-{name}"),
                format!("{name} <span class=\"target\">({})</span>", esc(t)),
            ),
            None => (name.to_owned(), esc(name)),
        };
        html.push_str(&format!(
            "<section class=\"app\" data-application=\"{n}\" aria-labelledby=\"app-{id}\"><h2 id=\"app-{id}\">{title}</h2><p class=\"line status\"><span class=\"{sync}\">{sync}</span>, <span class=\"{health}\">{health}</span>",
            n = esc(name),
            id = esc(&id),
        ));
        if let (Some(r), Some(d)) = (app["running"].as_u64(), app["desired"].as_u64()) {
            html.push_str(&format!(
                ", <span class=\"tasks\">{r}/{d} tasks running</span>, revision <code class=\"taskdef\">{}</code>",
                esc(field(app, "taskDefinition"))
            ));
        }
        if let Some(w) = app["warnings"].as_u64() {
            html.push_str(&format!(", <span class=\"warn\">{w} warning(s)</span>"));
        }
        html.push_str("</p>");
        if app["deployment"].is_object() {
            html.push_str(&deployment_bar(&app["deployment"]));
        }
        for o in &members {
            if o["awaitingApproval"].is_object() {
                html.push_str(&approval(&o["awaitingApproval"]));
            }
        }
        html.push_str(&format!(
            "<table><caption class=\"count\">objects of {}</caption><thead><tr><th scope=\"col\">kind</th><th scope=\"col\">name</th><th scope=\"col\">sync</th><th scope=\"col\">health</th><th scope=\"col\">message</th><th scope=\"col\" class=\"opt\">last change</th><th scope=\"col\" class=\"opt\">AWS error</th></tr></thead><tbody>",
            esc(name)
        ));
        for o in members {
            html.push_str(&row(o));
        }
        html.push_str("</tbody></table></section>");
    }
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
    html.push_str("</ol></main>");
    frame("ecsd status", &html)
}

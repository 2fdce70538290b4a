//! Whole-app snapshots of the TUI (ratatui TestBackend + insta) at 80x24 and 140x45,
//! for every lab scenario; what changes between runs is fixed in the evidence before
//! drawing, so the stored screens keep every border and width.
mod common;
use common::lab_in_process;
use keyspaces_doctor::evidence::Evidence;
use keyspaces_doctor::lab;
use keyspaces_doctor::probe::{self, Event};
use keyspaces_doctor::tui::{app::App, view};
use ratatui::{Terminal, backend::TestBackend};
use serde_json::{Value, json};
use std::time::Duration;

/// The evidence with what changes from run to run (ports, durations, temporary paths,
/// random keys, certificate dates and fingerprints, small clock offsets) set to fixed
/// values before anything is drawn: the snapshots keep every border and width as drawn.
fn steady(ev: Evidence) -> Evidence {
    fn walk(v: &mut Value, key: &str) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    walk(x, k);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, key)),
            Value::Number(_) if key.ends_with("_ms") => *v = json!(7),
            Value::Number(_) if key == "port" => *v = json!(9142),
            // A scenario's clock offset, to the minute (the run takes a second or two).
            Value::Number(n) if key == "clock_offset_secs" => {
                *v = json!((n.as_i64().unwrap_or(0) as f64 / 60.0).round() as i64 * 60)
            }
            Value::Number(_) if key == "age_days" => {}
            Value::String(s) if key == "sha256" => *s = "0".repeat(s.len()),
            Value::String(_) if key == "access_key_last4" => *v = json!("0001"),
            Value::String(_) if key == "not_before" => *v = json!("2026-01-01T00:00:00Z"),
            Value::String(_) if key == "not_after" => *v = json!("2027-01-01T00:00:00Z"),
            Value::String(_) if key == "expires_at" => *v = json!("2026-11-30T13:00:00Z"),
            Value::String(s) => {
                for (re, with) in steady_patterns() {
                    if re.is_match(s) {
                        *s = re.replace_all(s, *with).into_owned();
                    }
                }
            }
            _ => {}
        }
    }
    let mut v = serde_json::to_value(&ev).unwrap();
    walk(&mut v, "");
    Evidence::read(&v.to_string()).unwrap()
}

const STEADY: &[(&str, &str)] = &[
    (r"127\.0\.0\.(\d+):\d+", "127.0.0.$1:9142"),
    (r"amazonaws\.com:\d+", "amazonaws.com:9142"),
    (r"/tmp/[^ ,;:)\]'\x22]*/", "/tmp/keyspaces-lab/"),
    (r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", "${1}EXAMPLEKEY000001"),
    (r"\.\.\.[A-Z0-9]{4}\b", "...0001"),
    (r"\b\d+ ms\b", "7 ms"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "2026-11-30T12:00:00Z"),
    (r"\b\d{8}T\d{6}Z\b", "20261130T120000Z"),
    (r"keyspaces-doctor-probe-[0-9a-f]{8}", "keyspaces-doctor-probe-0000abcd"),
    (r"\bACCA[A-Z0-9]{17}\b", "ACCAEXAMPLE0000000001"),
    (r"-\d{10}\b", "-1000000001"),
    (r"\b\d{1,3} s from STS", "0 s from STS"),
];

fn steady_patterns() -> &'static [(regex::Regex, &'static str)] {
    static P: std::sync::OnceLock<Vec<(regex::Regex, &'static str)>> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        STEADY
            .iter()
            .map(|(re, w)| (regex::Regex::new(re).unwrap(), *w))
            .collect()
    })
}

async fn app_for(scenario: &str) -> App {
    let (running, _dir) = lab_in_process(scenario).await;
    let target =
        lab::client::target(&running.descriptor, Duration::from_secs(4)).expect("the client block makes a target");
    let ev = steady(probe::run(&target, &lab::client::io(&running.descriptor), None).await);
    let mut app = App::new(true, Some(scenario.into()));
    app.start_run();
    app.apply(Event::Snapshot(Box::new(ev)));
    app.finish_run();
    app
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// Every scenario at 80x24 and 140x45, the Diagnosis pane focused with the root
/// finding selected and its detail open. No filter: what is drawn is what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_at_80x24_and_140x45() {
    let names: Vec<String> = lab::scenario::all()
        .unwrap()
        .into_iter()
        .filter(|s| !s.hostile)
        .map(|s| s.name)
        .collect();
    assert!(names.len() >= 20);
    for name in names {
        let mut app = app_for(&name).await;
        assert!(
            app.diagnosis.findings.is_empty() || !app.selected_detail().is_empty(),
            "{name}: the root finding's detail is open"
        );
        let small = render(&mut app, 80, 24);
        let large = render(&mut app, 140, 45);
        for screen in [&small, &large] {
            no_debug_text(&name, screen);
        }
        insta::assert_snapshot!(format!("{name}_80x24"), small);
        insta::assert_snapshot!(format!("{name}_140x45"), large);
    }
}

const DEBUG_SHAPES: &[&str] = &["Some(", "None", "{ source:", "Error {", "TLSv1_"];

fn no_debug_text(what: &str, screen: &str) {
    for d in DEBUG_SHAPES {
        assert!(!screen.contains(d), "{what}: Debug text {d:?} on screen:\n{screen}");
    }
}

/// The walk's face: for texts of every kind, every question and the leaf each first
/// answer leads to are drawn in plain words, with no unfilled placeholder.
#[test]
fn the_walk_reads_in_plain_words() {
    let texts = [
        "Authentication failure: Invalid signature",
        "NoHostAvailable: ('Unable to connect to any servers', {'10.0.0.1:9142': ConnectionRefusedError(111, 'Connection refused')})",
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed",
        "User: arn:aws:iam::111122223333:user/app is not authorized to perform: cassandra:Modify on resource: arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders",
        "something odd happened",
    ];
    let placeholder = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
    for text in texts {
        for first in 1..=3 {
            let mut app = App::new(true, None);
            app.standalone = true;
            app.open_walk(text);
            let key = |c| {
                crossterm::event::KeyEvent::new(
                    crossterm::event::KeyCode::Char(c),
                    crossterm::event::KeyModifiers::NONE,
                )
            };
            app.overlay_key(key(char::from(b'0' + first)));
            for _ in 0..10 {
                app.overlay_key(key('1'));
            }
            for (w, h) in [(80, 24), (140, 45)] {
                let screen = render(&mut app, w, h);
                no_debug_text(text, &screen);
                assert!(
                    !placeholder.is_match(&screen),
                    "{text}: a placeholder unfilled:\n{screen}"
                );
            }
        }
    }
}

#[test]
fn resize_never_panics() {
    let mut app = App::new(false, None);
    for (w, h) in [(1, 1), (5, 2), (20, 5), (80, 24), (300, 100), (119, 29), (120, 30)] {
        let _ = render(&mut app, w, h);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_report_and_screens_hold_no_secret() {
    for scenario in [
        "wrong-password",
        "password-whitespace",
        "expired-session-token",
        "healthy",
    ] {
        let (running, _dir) = lab_in_process(scenario).await;
        let c = &running.descriptor.client;
        let secrets: Vec<String> = [&c.password, &c.secret_access_key, &c.session_token]
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_string())
            .collect();
        assert!(!secrets.is_empty());
        let target =
            lab::client::target(&running.descriptor, Duration::from_secs(10)).expect("the client block makes a target");
        let ev = probe::run(&target, &lab::client::io(&running.descriptor), None).await;
        let mut app = App::new(true, None);
        app.apply(Event::Snapshot(Box::new(ev)));
        let md = keyspaces_doctor::tui::export_markdown(&app);
        let screens = format!("{}{}", render(&mut app, 80, 24), render(&mut app, 140, 45));
        for s in &secrets {
            assert!(!md.contains(s.as_str()), "{scenario}: secret in the exported report");
            assert!(!screens.contains(s.as_str()), "{scenario}: secret on screen");
        }
        assert!(
            !format!("{target:?}").contains(secrets[0].as_str()),
            "{scenario}: Debug of the target"
        );
    }
}

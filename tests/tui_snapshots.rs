//! Whole-app snapshots of the TUI (ratatui TestBackend + insta) at 80x24 and 140x45,
//! for `healthy` and failing scenarios, with volatile text (times, ports, keys) filtered.
mod common;
use common::lab_in_process;
use keyspaces_doctor::lab;
use keyspaces_doctor::probe::{self, Event};
use keyspaces_doctor::tui::{app::App, view};
use ratatui::{Terminal, backend::TestBackend};
use std::time::Duration;

async fn app_for(scenario: &str) -> App {
    let (running, _dir) = lab_in_process(scenario).await;
    let target =
        lab::client::target(&running.descriptor, Duration::from_secs(10)).expect("the client block makes a target");
    let ev = probe::run(&target, &lab::client::io(&running.descriptor), None).await;
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

const FILTERS: &[(&str, &str)] = &[
    (r"127\.0\.0\.\d+:\d+", "127.0.0.X:PORT"),
    (r"amazonaws\.com:\d+", "amazonaws.com:PORT"),
    // Durations vary in width: fold the padding in front of them too.
    (r" *\b\d+ ?ms\b", " N ms"),
    (r"\b[1-6]\d{4}\b", "PORT"),
    (r"…[A-Z0-9]{4}", "…KEY4"),
    (r"key \.\.\.[A-Z0-9]{4}", "key ...KEY4"),
    (r"[+-]\d+ s\b", "±N s"),
    (r"until [^)│]*\)", "until DATE)"),
    (r"/tmp/[^ │]*", "/tmp/DIR"),
    (r"\d+\.\d+s", "N.Ns"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "TIME"),
    // Filtered values change widths: fold the padding before a border.
    (r" +│", " │"),
    (r"─+┐", "─┐"),
    (r"─+┘", "─┘"),
];

macro_rules! snap {
    ($name:ident, $scenario:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let mut app = app_for($scenario).await;
            let small = render(&mut app, 80, 24);
            let large = render(&mut app, 140, 45);
            let mut settings = insta::Settings::clone_current();
            for (re, with) in FILTERS {
                settings.add_filter(re, *with);
            }
            settings.bind(|| {
                insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), small);
                insta::assert_snapshot!(concat!(stringify!($name), "_140x45"), large);
            });
        }
    };
}

snap!(healthy, "healthy");
snap!(missing_select, "missing-select");
snap!(wrong_password, "wrong-password");
snap!(starfield_only_truststore, "starfield-only-truststore");
snap!(hostname_mismatch, "hostname-mismatch");
snap!(expired_session_token, "expired-session-token");
snap!(explicit_deny, "explicit-deny");
snap!(wrong_port, "wrong-port");
snap!(java_conf_starfield_only, "java-conf-starfield-only");

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

//! The interactive face: one event loop (`select!` over keys, engine events, a tick
//! and SIGTERM) that only ever draws from the app's state. Probes run as a task; the
//! UI never awaits I/O. Knows how to start runs; knows nothing of how probes work.
pub mod app;
pub mod view;
pub mod walk_view;

use crate::lab;
use crate::probe::{self, Event, Io};
use crate::target::Target;
use app::{Action, App};
use base64::Engine as _;
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// When `main` started, for the benchmark's startup-to-first-frame figure.
pub static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Where the target comes from: fixed flags, or the embedded lab's scenarios (demo).
pub enum Source {
    Fixed(Box<Target>),
    Demo {
        scenarios: Vec<String>,
        index: usize,
        /// The lab's files: a fresh private directory (mode 0700), removed on exit.
        dir: Option<tempfile::TempDir>,
    },
}

impl Source {
    /// Starts a run as a task of its own: in demo, the lab's start is part of it, so
    /// the loop never awaits it. The task's result says why a run could not start.
    fn spawn(&mut self, tx: UnboundedSender<Event>) -> JoinHandle<Result<(), String>> {
        match self {
            Source::Fixed(t) => {
                let target = (**t).clone();
                tokio::spawn(async move {
                    let _ = probe::run_within_total(&target, &Io::real(), Some(tx)).await;
                    Ok(())
                })
            }
            Source::Demo {
                scenarios, index, dir, ..
            } => {
                let name = scenarios.get(*index).cloned().unwrap_or_else(|| "healthy".into());
                if dir.is_none() {
                    match crate::outside::file::private_temp_dir("keyspaces-doctor-demo-") {
                        Ok(d) => *dir = Some(d),
                        Err(e) => {
                            let why = format!("cannot create a private directory for the lab: {e}");
                            return tokio::spawn(async move { Err(why) });
                        }
                    }
                }
                let path = dir.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default();
                tokio::spawn(async move {
                    lab::client::check_scenario(&name, &path, Duration::from_secs(5), Some(tx))
                        .await
                        .map(|_| ())
                })
            }
        }
    }

    fn scenario(&self) -> Option<String> {
        match self {
            Source::Fixed(_) => None,
            Source::Demo { scenarios, index, .. } => scenarios.get(*index).cloned(),
        }
    }
}

/// A run that ended: its last events applied, and why it could not start, if so.
fn finished(
    app: &mut App,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    result: Option<Result<Result<(), String>, tokio::task::JoinError>>,
) {
    while let Ok(e) = rx.try_recv() {
        app.apply(e);
    }
    app.finish_run();
    match result {
        Some(Ok(Err(why))) => app.message = Some(format!("could not start: {why}")),
        Some(Err(e)) if !e.is_cancelled() => app.message = Some(format!("the run ended abnormally: {e}")),
        _ => {}
    }
}

/// The report `e` exports: Markdown of the current evidence (it holds no secret).
pub fn export_markdown(app: &App) -> String {
    crate::report::markdown::render(&app.diagnosis, &app.evidence)
}

fn export(app: &App) -> String {
    let md = export_markdown(app);
    let name = format!(
        "keyspaces-doctor-report-{}.md",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    for dir in [std::env::current_dir().ok(), Some(std::env::temp_dir())]
        .into_iter()
        .flatten()
    {
        let p = dir.join(&name);
        // A new file only: never over an existing one, never through a planted link.
        match crate::outside::file::write_new(&p, md.as_bytes(), 0o600) {
            Ok(()) => return format!("report written to {}", p.display()),
            Err(e @ crate::outside::file::WriteRefused::Symlink(_)) => return format!("report not written: {e}"),
            Err(_) => continue,
        }
    }
    "could not write the report (no writable directory)".into()
}

fn copy(app: &App) -> String {
    match app.selected_command() {
        Some(cmd) => {
            let seq = format!(
                "\x1b]52;c;{}\x07",
                base64::engine::general_purpose::STANDARD.encode(cmd.as_bytes())
            );
            let mut out = std::io::stdout();
            let _ = out.write_all(seq.as_bytes());
            let _ = out.flush();
            format!("copied via OSC 52 (if your terminal allows): {cmd}")
        }
        None => "no command selected: move to a '$' line under Fix".into(),
    }
}

/// Runs the TUI until the user quits or a signal (SIGINT, SIGHUP, SIGQUIT, SIGTERM)
/// arrives; the terminal is restored on every exit path (ratatui's panic hook restores
/// it on panic). Returns the signal that ended it, for the conventional exit code.
pub async fn run(mut source: Source, no_color: bool) -> color_eyre::Result<Option<i32>> {
    // Handlers first: a signal that arrives while the screen is set up still ends the
    // loop cleanly instead of killing the process with the terminal in raw mode.
    let signals = Signals::new()?;
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste);
    let result = event_loop(&mut terminal, &mut source, no_color, signals).await;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
    ratatui::restore();
    result
}

/// `explain --walk`: the walk alone, from `text` or from a paste box when there is none.
/// Returns the signal that ended it, if one did.
pub async fn run_walk(text: Option<String>, no_color: bool) -> color_eyre::Result<Option<i32>> {
    let mut signals = Signals::new()?;
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste);
    let mut app = App::new(no_color, None);
    app.standalone = true;
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => app.open_walk(&t),
        None => app.open_paste(),
    }
    let mut events = EventStream::new();
    let mut ended_by = None;
    let result: color_eyre::Result<()> = async {
        while !app.quit {
            terminal.draw(|f| view::draw(f, &mut app))?;
            tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => app.overlay_key(k),
                    Some(Ok(TermEvent::Paste(text))) => { app.paste(&text); }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => app.quit = true,
                },
                n = signals.next() => { ended_by = Some(n); app.quit = true; }
            }
        }
        Ok(())
    }
    .await;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
    ratatui::restore();
    result.map(|_| ended_by)
}

/// The signals that end the TUI.
struct Signals {
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The number of the next signal to arrive.
    async fn next(&mut self) -> i32 {
        tokio::select! {
            _ = self.int.recv() => libc::SIGINT,
            _ = self.hup.recv() => libc::SIGHUP,
            _ = self.quit.recv() => libc::SIGQUIT,
            _ = self.term.recv() => libc::SIGTERM,
        }
    }
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    source: &mut Source,
    no_color: bool,
    mut signals: Signals,
) -> color_eyre::Result<Option<i32>> {
    let mut app = App::new(no_color, source.scenario());
    let (tx, mut rx) = unbounded_channel::<Event>();
    let mut events = EventStream::new();
    let mut ended_by: Option<i32> = None;
    // Timing for the benchmark (benches/versus_peers.py): first frame and key-to-frame.
    let bench_log = std::env::var_os("KEYSPACES_DOCTOR_BENCH_LOG").map(std::path::PathBuf::from);
    let bench = |line: String| {
        if let Some(p) = &bench_log
            && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(p)
        {
            let _ = writeln!(f, "{line}");
        }
    };
    let mut key_at: Option<std::time::Instant> = None;
    app.start_run();
    // The first frame comes before any I/O (the demo's lab starts in the run's task).
    terminal.draw(|f| view::draw(f, &mut app))?;
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    bench(format!(
        "first_frame_unix_us {unix} since_main_us {}",
        PROCESS_START.get().map(|t| t.elapsed().as_micros()).unwrap_or(0)
    ));
    let mut job: Option<JoinHandle<Result<(), String>>> = Some(source.spawn(tx.clone()));
    loop {
        if app.running && job.as_ref().is_none_or(|j| j.is_finished()) {
            let result = job.take().and_then(futures::FutureExt::now_or_never);
            finished(&mut app, &mut rx, result);
        }
        terminal.draw(|f| view::draw(f, &mut app))?;
        if let Some(k) = key_at.take() {
            bench(format!("key_to_frame_us {}", k.elapsed().as_micros()));
        }
        let tick = if app.running {
            Duration::from_millis(120)
        } else {
            Duration::from_secs(1)
        };
        let running = job.as_ref().is_some_and(|j| !j.is_finished());
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press && app.overlay.is_some() => {
                    key_at = Some(std::time::Instant::now());
                    app.overlay_key(k);
                }
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    key_at = Some(std::time::Instant::now());
                    if let Some(a) = app::action_for(k, app.help)
                        && let Some(todo) = app.update(a)
                    {
                        match todo {
                            Action::Rerun | Action::NextScenario => {
                                if let Some(j) = job.take() { j.abort(); }
                                if todo == Action::NextScenario {
                                    match source {
                                        Source::Demo { scenarios, index, .. } => *index = (*index + 1) % scenarios.len().max(1),
                                        Source::Fixed(_) => {
                                            app.message = Some("s switches scenarios only in demo".into());
                                        }
                                    }
                                    app.scenario = source.scenario();
                                }
                                app.start_run();
                                app.message = None;
                                job = Some(source.spawn(tx.clone()));
                            }
                            Action::Export => app.message = Some(export(&app)),
                            Action::Copy => app.message = Some(copy(&app)),
                            _ => {}
                        }
                    }
                }
                Some(Ok(TermEvent::Paste(text))) => {
                    // A paste is text, never key presses: into the paste box when open.
                    if !app.paste(&text) {
                        app.message = Some(format!(
                            "a paste of {} characters was ignored (p opens a box for your application's error)",
                            text.chars().count()
                        ));
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => app.quit = true,
            },
            Some(e) = rx.recv() => app.apply(e),
            r = async { match job.as_mut() { Some(j) => Some(j.await), None => None } }, if running => {
                job = None;
                finished(&mut app, &mut rx, r);
            }
            _ = tokio::time::sleep(tick) => { app.spinner = app.spinner.wrapping_add(1); }
            n = signals.next() => {
                ended_by = Some(n);
                app.quit = true;
            }
        }
        if app.quit {
            break;
        }
    }
    if let Some(j) = job {
        j.abort();
    }
    Ok(ended_by)
}

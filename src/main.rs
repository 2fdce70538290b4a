//! The binary's edge: parse the command line, set up logging and errors, run one face.
#![forbid(unsafe_code)]
use clap::Parser;
use keyspaces_doctor::cli::{CheckArgs, Cli, Command, DemoArgs, ExplainArgs, LabArgs, TargetArgs, TrainArgs};
use keyspaces_doctor::{lab, logging};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let _ = keyspaces_doctor::tui::PROCESS_START.set(std::time::Instant::now());
    let cli = Cli::parse();
    if cli.version {
        println!("{}", version_text());
        return ExitCode::SUCCESS;
    }
    match &cli.command {
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "keyspaces-doctor", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            if clap_mangen::Man::new(cmd).render(&mut out).is_err() {
                return ExitCode::from(1);
            }
            let _ = std::io::stdout().write_all(&out);
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let _ = color_eyre::install();
    let tui = match &cli.command {
        None | Some(Command::Demo(_)) => true,
        Some(Command::Explain(a)) => a.walk && screen_capable(),
        _ => false,
    };
    logging::init(match (tui, std::env::var_os("RUST_LOG")) {
        (false, _) => logging::Sink::Stderr,
        (true, Some(_)) => logging::Sink::File(std::env::temp_dir().join("keyspaces-doctor.log")),
        (true, None) => logging::Sink::Off,
    });
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match cli.command {
        Some(Command::Lab(args)) => rt.block_on(run_lab(args)),
        Some(Command::Check(args)) => rt.block_on(run_check(args)),
        Some(Command::Explain(args)) if args.walk && screen_capable() => {
            let text = (!args.text.is_empty()).then(|| args.text.join(" "));
            finish_tui(rt.block_on(keyspaces_doctor::tui::run_walk(text, no_color())))
        }
        Some(Command::Explain(args)) => {
            if args.walk {
                eprintln!(
                    "note: --walk needs a full-screen terminal (TERM is unset or dumb, or stdout is not a terminal); printing the explanation"
                );
            }
            run_explain(args)
        }
        Some(Command::Demo(args)) => rt.block_on(run_demo(args)),
        Some(Command::Completions { .. }) | Some(Command::Man) => ExitCode::SUCCESS,
        Some(Command::Train(args)) => rt.block_on(run_train(args)),
        Some(Command::Summarize(args)) => run_summarize(args),
        Some(Command::Diff(args)) => run_diff(args),
        None => rt.block_on(run_tui(cli.target)),
    };
    // A blocking read still waiting (a slow device, a hung network file system) is
    // abandoned: the answer has been given and the process ends now.
    rt.shutdown_background();
    code
}

async fn run_lab(args: LabArgs) -> ExitCode {
    if args.list {
        let mut out = std::io::stdout().lock();
        for (name, _) in keyspaces_doctor::assets::SCENARIO_FILES {
            let _ = writeln!(out, "{name}");
        }
        return ExitCode::SUCCESS;
    }
    let dir = args
        .dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("keyspaces-doctor-lab-{}", std::process::id())));
    let opts = lab::LabOptions {
        scenario: args.scenario,
        dir,
        listen: args.listen,
        allow_non_loopback: args.allow_non_loopback,
    };
    let running = match lab::start(opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let shutdown = match shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let line = serde_json::to_string(&running.descriptor).unwrap_or_default();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    shutdown.await;
    drop(running);
    ExitCode::SUCCESS
}

/// Registers SIGTERM and SIGINT handlers at once (before the lab announces itself, so a
/// signal sent right after the JSON line still ends it cleanly) and waits for either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Whether the full-screen TUI can run: stdout is a terminal that can address the screen
/// (`TERM` set and not `dumb`); else the text report is printed instead.
fn screen_capable() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
}

async fn run_tui(args: TargetArgs) -> ExitCode {
    if !screen_capable() {
        return run_check(CheckArgs {
            target: args,
            json: false,
            markdown: false,
        })
        .await;
    }
    let target = match keyspaces_doctor::target::Target::from_args(&args, &keyspaces_doctor::probe::real_env) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    finish_tui(keyspaces_doctor::tui::run(keyspaces_doctor::tui::Source::Fixed(Box::new(target)), no_color()).await)
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn finish_tui(r: color_eyre::Result<Option<i32>>) -> ExitCode {
    match r {
        Ok(None) => ExitCode::SUCCESS,
        // Ended by a signal: the conventional 128 + its number.
        Ok(Some(signal)) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run_demo(args: DemoArgs) -> ExitCode {
    let all = match lab::scenario::all() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let shown: Vec<_> = all.iter().filter(|s| !s.hostile).collect();
    if args.list {
        let mut out = std::io::stdout().lock();
        for s in &shown {
            let _ = writeln!(out, "{:<26} {}", s.name, s.teaches);
        }
        return ExitCode::SUCCESS;
    }
    let names: Vec<String> = shown.iter().map(|s| s.name.clone()).collect();
    let Some(index) = names.iter().position(|n| *n == args.scenario) else {
        eprintln!(
            "error: unknown scenario '{}'; `keyspaces-doctor demo --list` shows them",
            args.scenario
        );
        return ExitCode::from(2);
    };
    if !screen_capable() {
        return demo_report(&names[index]).await;
    }
    let source = keyspaces_doctor::tui::Source::Demo {
        scenarios: names,
        index,
        dir: None,
    };
    finish_tui(keyspaces_doctor::tui::run(source, no_color()).await)
}

/// The demo without a screen: the scenario's text report, from a lab in a private
/// temporary directory.
async fn demo_report(scenario: &str) -> ExitCode {
    use keyspaces_doctor::{diagnosis, report};
    let dir = match keyspaces_doctor::outside::file::private_temp_dir("keyspaces-doctor-demo-") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot create a private directory for the lab: {e}");
            return ExitCode::from(1);
        }
    };
    let ev = match lab::client::check_scenario(scenario, dir.path(), std::time::Duration::from_secs(5), None).await {
        Ok(ev) => ev,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let d = diagnosis::evaluate(&ev);
    let mut stdout = std::io::stdout().lock();
    eprintln!(
        "note: no full-screen terminal (TERM is unset or dumb, or stdout is not a terminal); printing the text report of demo scenario {scenario}"
    );
    let _ = writeln!(stdout, "{}", report::text::render(&d, &ev).trim_end());
    if d.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

async fn run_check(args: CheckArgs) -> ExitCode {
    use keyspaces_doctor::{diagnosis, probe, report, target::Target};
    let target = match Target::from_args(&args.target, &probe::real_env) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let io = probe::Io::real();
    // The last line of defence: should something outside the probes' control (a read in
    // a library that blocks a runtime thread) stall the run past its total timeout, the
    // process still ends, saying so, instead of hanging.
    let grace = target.total_timeout + std::time::Duration::from_secs(5);
    std::thread::spawn(move || {
        std::thread::sleep(grace);
        eprintln!(
            "error: the check stalled {grace:?} after it started (a blocking read outside the probes' control); no report. Run it with RUST_LOG=debug to see the last step"
        );
        std::process::exit(1);
    });
    let ev = probe::run_within_total(&target, &io, None).await;
    let d = diagnosis::evaluate(&ev);
    let out = if args.json {
        report::json(&d, &ev)
    } else if args.markdown {
        report::markdown::render(&d, &ev)
    } else {
        report::text::render(&d, &ev)
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", out.trim_end());
    let _ = stdout.flush();
    if d.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn run_explain(args: ExplainArgs) -> ExitCode {
    use keyspaces_doctor::explain;
    let input = if args.text.is_empty() {
        explain::read_input(std::io::stdin().lock())
    } else {
        explain::read_input(args.text.join(" ").as_bytes())
    };
    let mut e = explain::explain(&input.text);
    e.input_cut = input.cut;
    let out = if args.json {
        serde_json::to_string(&e).unwrap_or_default()
    } else {
        explain::render_text(&e)
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", out.trim_end());
    ExitCode::SUCCESS
}

fn run_summarize(args: keyspaces_doctor::cli::SummarizeArgs) -> ExitCode {
    use keyspaces_doctor::fleet::{Report, summarize};
    let reports = match Report::load(&args.reports, &mut std::io::stdin().lock()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}; pass check --json reports, a directory of them, or - for JSON lines on stdin");
            return ExitCode::from(2);
        }
    };
    // No report is no evidence: never a summary that reads as all clear.
    if reports.is_empty() {
        eprintln!(
            "error: no report in {}; pass check --json reports (*.json), a directory of them, or - for JSON lines on stdin",
            args.reports.join(", ")
        );
        return ExitCode::from(2);
    }
    let s = summarize::summarize(&reports);
    let out = if args.json {
        serde_json::to_string(&s).unwrap_or_default()
    } else {
        summarize::render_text(&s, args.markdown)
    };
    let _ = writeln!(std::io::stdout().lock(), "{}", out.trim_end());
    if s.groups.iter().any(|g| g.verdict != "ok") {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_diff(args: keyspaces_doctor::cli::DiffArgs) -> ExitCode {
    use keyspaces_doctor::fleet::{Report, diff};
    let load = |p: &String| Report::load(std::slice::from_ref(p), &mut std::io::empty());
    let (good, bad) = match (load(&args.good), load(&args.bad)) {
        (Ok(mut g), Ok(mut b)) if g.len() == 1 && b.len() == 1 => (g.remove(0), b.remove(0)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}; pass two check --json report files");
            return ExitCode::from(2);
        }
        _ => {
            eprintln!("error: diff compares two report files, a working host's and a failing one's");
            return ExitCode::from(2);
        }
    };
    let d = diff::diff(&good, &bad);
    let out = if args.json {
        serde_json::json!({"good": good.host, "bad": bad.host, "differences": d}).to_string()
    } else {
        diff::render_text(&good, &bad, &d)
    };
    let _ = writeln!(std::io::stdout().lock(), "{}", out.trim_end());
    ExitCode::SUCCESS
}

async fn run_train(args: TrainArgs) -> ExitCode {
    let opts = keyspaces_doctor::train::Options {
        scenario: args.scenario,
        count: args.count,
        score_line: args.score_line,
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    match keyspaces_doctor::train::run(opts, &mut input, &mut out).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn version_text() -> String {
    use sha2::{Digest, Sha256};
    let mut s = format!(
        "keyspaces-doctor {}\nembedded roots (SHA-256):",
        env!("CARGO_PKG_VERSION")
    );
    for (name, der) in keyspaces_doctor::trust::keyspaces_roots() {
        s.push_str(&format!("\n  {name}: {}", hex::encode(Sha256::digest(der.as_ref()))));
    }
    s
}

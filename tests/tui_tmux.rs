//! The real binary driven in tmux as a person would: keys in, screen captured.
mod common;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(name: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        // `=name`: exactly this session (a bare name also matches others by prefix).
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &format!("={name}")])
            .status();
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux is installed")
            .success();
        assert!(ok, "tmux new-session failed");
        let t = Tmux { name: name.into() };
        t.keys(&[cmd, "Enter"]);
        t
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Waits (generously: machines here are noisy) until the screen shows `text`.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                // Let a frame that was being written finish, then read the whole screen.
                std::thread::sleep(Duration::from_millis(300));
                return self.screen();
            }
            assert!(
                start.elapsed() < limit,
                "'{text}' did not appear within {limit:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &format!("={}", self.name)])
            .status();
    }
}

fn demo(scenario: &str) -> String {
    format!("{} demo --scenario {scenario}; echo EXIT=$?", common::bin().display())
}

#[test]
fn missing_select_at_140x45() {
    let t = Tmux::start("kd-missing-select", 140, 45, &demo("missing-select"));
    let s = t.wait_for("cassandra:Select", Duration::from_secs(30));
    for title in ["Identity", "Endpoint & TLS", "Query attempts", "Diagnosis"] {
        assert!(s.contains(title), "pane {title} missing:\n{s}");
    }
    t.wait_for("missing-permission", Duration::from_secs(30));
    // Move through the tree: down to the path, expand it.
    t.keys(&["Down"]);
    t.keys(&["Down"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("What did the client observe?", Duration::from_secs(10));
    assert!(s.contains("> "), "a selection marker is visible without colour:\n{s}");
    t.keys(&["Tab"]);
    t.wait_for("▶ Identity", Duration::from_secs(10));
    t.keys(&["?"]);
    let s = t.wait_for("Help: key bindings", Duration::from_secs(10));
    assert!(s.contains("Shift-Tab") && s.contains("Ctrl-C"), "{s}");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
    // The terminal is usable again: the shell echoes a command.
    t.keys(&["echo usable-$((40+2))", "Enter"]);
    t.wait_for("usable-42", Duration::from_secs(10));
}

#[test]
fn starfield_only_truststore_at_80x24() {
    let t = Tmux::start("kd-starfield", 80, 24, &demo("starfield-only-truststore"));
    let s = t.wait_for("tls-trust", Duration::from_secs(30));
    for title in ["Identity", "Endpoint & TLS", "Query attempts", "Diagnosis"] {
        assert!(s.contains(title), "tab {title} missing:\n{s}");
    }
    let first = s.lines().next().unwrap_or_default().to_string();
    assert!(
        first.contains("tls-trust"),
        "the status line carries the headline: {first}"
    );
    // Arrows and Enter move through the diagnosis tree here too: open the path.
    t.keys(&["Down"]);
    t.keys(&["Down"]);
    t.keys(&["Enter"]);
    t.wait_for("What did the client observe?", Duration::from_secs(10));
    t.keys(&["Tab"]);
    t.wait_for("▶Identity", Duration::from_secs(10));
    t.keys(&["Tab"]);
    let s = t.wait_for("▶Endpoint & TLS", Duration::from_secs(10));
    assert!(s.lines().next().unwrap_or_default().contains("tls-trust"), "{s}");
    t.keys(&["?"]);
    t.wait_for("Help: key bindings", Duration::from_secs(10));
    t.keys(&["Escape", "q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
    t.keys(&["echo usable-$((40+2))", "Enter"]);
    t.wait_for("usable-42", Duration::from_secs(10));
}

#[test]
fn keys_stay_responsive_while_a_probe_hangs() {
    let t = Tmux::start("kd-wrong-port", 140, 45, &demo("wrong-port"));
    t.wait_for("diagnosing", Duration::from_secs(20));
    // The TLS probe is now waiting on a port that never answers; keys still work.
    let start = Instant::now();
    t.keys(&["Tab"]);
    let s = t.wait_for("▶ Identity", Duration::from_secs(5));
    assert!(
        s.contains("diagnosing"),
        "the key was handled while the probe still hangs:\n{s}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

fn pid_of(pattern: &str) -> u32 {
    let out = Command::new("pgrep").args(["-f", pattern]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no process matches {pattern}"))
}

/// utime + stime in clock ticks, from /proc.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn idle_tui_uses_no_measurable_cpu_and_exports_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("cd {} && {}", dir.path().display(), demo("unknown-table"));
    let t = Tmux::start("kd-idle", 100, 30, &cmd);
    t.wait_for("schema", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(1));
    let pid = pid_of("demo --scenario unknown-table");
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(4));
    let used = cpu_ticks(pid) - before;
    // 100 ticks a second: a busy loop would burn ~400; redrawing once a second costs ~0-3.
    assert!(used <= 20, "idle TUI used {used} ticks in 4 s");
    t.keys(&["e"]);
    let s = t.wait_for("report written to", Duration::from_secs(10));
    assert!(
        s.contains(&dir.path().display().to_string()[..20.min(dir.path().display().to_string().len())]),
        "{s}"
    );
    let report = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("keyspaces-doctor-report-"))
        .expect("the exported report exists");
    let text = std::fs::read_to_string(report.path()).unwrap();
    assert!(text.starts_with("# keyspaces-doctor report"));
    assert!(text.contains("unknown-table") || text.contains("schema"));
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

#[test]
fn train_scores_a_wrong_and_a_right_answer() {
    let bin = common::bin();
    let t = Tmux::start(
        "kd-train",
        120,
        50,
        &format!(
            "{} train --scenario wrong-password --count 1 --score-line; echo EXIT=$?",
            bin.display()
        ),
    );
    t.wait_for("Your answer", Duration::from_secs(30));
    t.keys(&["tls-trust", "Enter"]);
    let s = t.wait_for("train score: 0/1", Duration::from_secs(20));
    assert!(s.contains("✗ Wrong") && s.contains("it is invalid-credentials"), "{s}");
    assert!(
        s.contains("The walk from the symptom to the cause") && s.contains("Fix:"),
        "{s}"
    );
    t.wait_for("EXIT=0", Duration::from_secs(10));
    t.keys(&["clear", "Enter"]);
    t.keys(&[
        &format!(
            "{} train --scenario wrong-password --count 1 --score-line; echo EXIT=$?",
            bin.display()
        ),
        "Enter",
    ]);
    t.wait_for("Your answer", Duration::from_secs(30));
    t.keys(&["1", "Enter"]);
    let s = t.wait_for("train score: 1/1", Duration::from_secs(20));
    assert!(s.contains("✓ Right"), "{s}");
    assert!(
        s.contains("The walk from the symptom to the cause") && s.contains("Fix:"),
        "{s}"
    );
}

/// Before answering, `o` opens the round's scenario in the demo's panes; q returns to
/// the same round.
#[test]
fn train_o_explores_the_scenario_before_answering() {
    let t = Tmux::start(
        "kd-o-train",
        100,
        30,
        &format!(
            "{} train --scenario missing-select --count 1 --score-line; echo EXIT=$?",
            common::bin().display()
        ),
    );
    t.wait_for("o explores the panes", Duration::from_secs(30));
    t.keys(&["o", "Enter"]);
    let s = t.wait_for("[demo: missing-select]", Duration::from_secs(30));
    assert!(s.contains("Diagnosis"), "{s}");
    t.wait_for("missing-permission", Duration::from_secs(30));
    t.keys(&["q"]);
    t.wait_for("Back in training", Duration::from_secs(10));
    t.keys(&["missing-permission", "Enter"]);
    t.wait_for("train score: 1/1", Duration::from_secs(20));
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

/// Each signal ends the TUI with the conventional code and leaves a usable terminal:
/// the alternate screen gone (the shell's own lines visible), echo and line editing on.
fn signal_restores_the_terminal(signal: &str, code: u8, w: u16, h: u16) {
    let name = format!("kd-sig{}", signal.to_lowercase());
    let t = Tmux::start(&name, w, h, &demo("iam-username"));
    t.wait_for("invalid-credentials", Duration::from_secs(30));
    let pid = pid_of("demo --scenario iam-username");
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let s = t.wait_for("EXIT=", Duration::from_secs(10));
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{signal}: took {:?}",
        sent.elapsed()
    );
    assert!(s.contains(&format!("EXIT={code}")), "{signal}: {s}");
    assert!(
        s.contains("demo --scenario iam-username"),
        "{signal}: the shell's screen is back: {s}"
    );
    t.keys(&["echo restored-$((6*7))", "Enter"]);
    t.wait_for("restored-42", Duration::from_secs(10));
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores_the_terminal("TERM", 143, 100, 30);
}

#[test]
fn sigint_restores_the_terminal() {
    signal_restores_the_terminal("INT", 130, 80, 24);
}

#[test]
fn sighup_restores_the_terminal() {
    signal_restores_the_terminal("HUP", 129, 80, 24);
}

#[test]
fn sigquit_restores_the_terminal() {
    signal_restores_the_terminal("QUIT", 131, 80, 24);
}

#[test]
fn a_large_paste_is_text_not_key_presses() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("cd {} && {}", dir.path().display(), demo("missing-select"));
    let t = Tmux::start("kd-paste", 100, 30, &cmd);
    t.wait_for("missing-permission", Duration::from_secs(30));
    // 100 KB of letters that are keys here: e exports, s switches, r reruns, q quits.
    let paste = dir.path().join("paste.txt");
    std::fs::write(&paste, "esrq ".repeat(20_000)).unwrap();
    let buffer = "kd-paste-buffer";
    assert!(
        Command::new("tmux")
            .args(["load-buffer", "-b", buffer])
            .arg(&paste)
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    assert!(
        Command::new("tmux")
            .args(["paste-buffer", "-p", "-b", buffer, "-t", "kd-paste"])
            .status()
            .unwrap()
            .success()
    );
    let s = t.wait_for("a paste of 100000 characters was ignored", Duration::from_secs(20));
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "the paste took {:?}",
        start.elapsed()
    );
    assert!(!s.contains("EXIT="), "the paste's q did not quit: {s}");
    assert!(
        s.contains("[demo: missing-select]"),
        "the paste's s did not switch scenarios: {s}"
    );
    let exported = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("keyspaces-doctor-report-"))
        .count();
    assert_eq!(exported, 0, "the paste's e exported nothing");
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

#[test]
fn the_demo_lab_lives_in_a_fresh_private_directory_removed_on_exit() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let cmd = format!("TMPDIR={} {}", tmp.path().display(), demo("missing-select"));
    let t = Tmux::start("kd-demodir", 100, 30, &cmd);
    t.wait_for("missing-permission", Duration::from_secs(30));
    let dirs: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("keyspaces-doctor-demo-"))
        .collect();
    assert_eq!(dirs.len(), 1, "one demo directory");
    let meta = std::fs::symlink_metadata(dirs[0].path()).unwrap();
    assert!(meta.is_dir() && !meta.file_type().is_symlink());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700, "private to its user");
    assert!(dirs[0].path().join("ca.pem").is_file());
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
    assert!(!dirs[0].path().exists(), "removed on exit");
}

#[test]
fn export_never_writes_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    let cmd = format!("cd {} && {}", dir.path().display(), demo("unknown-table"));
    let t = Tmux::start("kd-exportlink", 200, 30, &cmd);
    t.wait_for("schema", Duration::from_secs(30));
    // Links at the names the next seconds' exports would take.
    let now = chrono::Utc::now();
    for s in 0..20 {
        let name = format!(
            "keyspaces-doctor-report-{}.md",
            (now + chrono::Duration::seconds(s)).format("%Y%m%d-%H%M%S")
        );
        std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
    }
    t.keys(&["e"]);
    let s = t.wait_for("report not written", Duration::from_secs(10));
    assert!(s.contains("symbolic link"), "{s}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

#[test]
fn term_dumb_falls_back_to_the_text_report() {
    let t = Tmux::start("kd-dumb", 100, 30, &format!("TERM=dumb {}", demo("missing-select")));
    let s = t.wait_for("EXIT=1", Duration::from_secs(30));
    assert!(s.contains("read table") && s.contains("0x2100"), "the text report: {s}");
    assert!(!s.contains("┌"), "no full-screen frame: {s}");
}

#[test]
fn the_diagnosis_can_be_read_whole_at_80x24() {
    let t = Tmux::start("kd-detail", 80, 24, &demo("missing-select"));
    let s = t.wait_for("missing-permission", Duration::from_secs(30));
    assert!(s.contains("q quit") && s.contains("s next scenario"), "footer: {s}");
    assert!(s.contains("…"), "the headline is shortened at a word: {s}");
    // The root finding selected: its whole resource ARN and its whole Why.
    let joined: String = s
        .lines()
        .map(|l| l.trim_matches('│').trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("arn:aws:cassandra:us-east-1:111122223333:/keyspace/store/table/orders"),
        "{s}"
    );
    assert!(
        joined.contains("allow must come from the user's, group's or role's own policies."),
        "{s}"
    );
    // Down to Fix, expand it, and walk to a command: shown whole.
    t.keys(&["Down", "Down", "Down", "Down", "Enter", "Down"]);
    let mut s = t.screen();
    for _ in 0..12 {
        if s.contains("(c copies it)") {
            break;
        }
        t.keys(&["Down"]);
        std::thread::sleep(Duration::from_millis(200));
        s = t.screen();
    }
    assert!(
        s.contains("$ aws iam") && s.contains("(c copies it)"),
        "a fix command, whole: {s}"
    );
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

#[test]
fn hostname_mismatch_badge_and_plain_words_at_80x24() {
    let t = Tmux::start("kd-badge", 80, 24, &demo("hostname-mismatch"));
    t.wait_for("tls-hostname", Duration::from_secs(30));
    let mut screens = Vec::new();
    for _ in 0..4 {
        screens.push(t.screen());
        t.keys(&["Tab"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let all = screens.join("\n");
    assert!(
        all.contains("Endpoint & TLS [✗"),
        "the Endpoint & TLS badge is ✗: {all}"
    );
    for debug in ["Some(", "None", "TLSv1_"] {
        assert!(!all.contains(debug), "{debug} on screen: {all}");
    }
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

/// `explain --walk` at 80x24: the text decides the first branch, the next question has
/// numbered answers, a digit answers it and the screen ends on a leaf with its Fix;
/// Backspace takes the answer back; q quits with exit 0.
#[test]
fn explain_walk_answers_with_digit_keys_at_80x24() {
    let cmd = format!(
        "{} explain --walk 'Authentication failure: Invalid signature'; echo EXIT=$?",
        common::bin().display()
    );
    let t = Tmux::start("kd-walk", 80, 24, &cmd);
    let s = t.wait_for("1)", Duration::from_secs(20));
    assert!(s.contains("(from the text)"), "{s}");
    assert!(s.contains("2)") && s.contains("digits answer"), "{s}");
    assert!(!s.contains("Fix:"), "no leaf before an answer: {s}");
    t.keys(&["2"]);
    let s = t.wait_for("Fix:", Duration::from_secs(10));
    assert!(s.contains("(your answer; Backspace changes it)"), "{s}");
    assert!(s.contains("clock-skew"), "{s}");
    assert!(!s.contains('{'), "placeholders are shown as <name>: {s}");
    t.keys(&["BSpace"]);
    let s = t.wait_for("digits answer", Duration::from_secs(10));
    assert!(!s.contains("Fix:"), "the answer was taken back: {s}");
    t.keys(&["1"]);
    t.wait_for("Fix:", Duration::from_secs(10));
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

/// `p` in demo: a paste box takes the application's own error (q is text there), and
/// Enter explains it as a walk over the live panes; Esc closes it, q then quits.
#[test]
fn p_explains_the_applications_error_beside_the_evidence() {
    let t = Tmux::start("kd-pbox", 100, 30, &demo("missing-select"));
    t.wait_for("missing-permission", Duration::from_secs(30));
    t.keys(&["p"]);
    t.wait_for("Paste your application's error", Duration::from_secs(10));
    t.keys(&["-l", "quota exceeded? no: connect ECONNREFUSED 10.0.0.5:9142"]);
    let s = t.wait_for("ECONNREFUSED", Duration::from_secs(10));
    assert!(!s.contains("EXIT="), "q typed in the box did not quit: {s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("The decision tree, walked", Duration::from_secs(10));
    assert!(s.contains("Error: quota exceeded? no: connect ECONNREFUSED"), "{s}");
    t.keys(&["Escape"]);
    let s = t.wait_for("[demo: missing-select]", Duration::from_secs(10));
    assert!(!s.contains("The decision tree, walked"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

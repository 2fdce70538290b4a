//! The TUI's state and its pure update function: key → `Action`, engine event →
//! new snapshot. No drawing and no I/O here.
use crate::diagnosis::{self, Diagnosis};
use crate::evidence::{Evidence, ProbeRecord, ProbeStatus, QueryAttempt, Step};
use crate::probe::Event;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Instant;
use tui_tree_widget::TreeState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Identity,
    Endpoint,
    Queries,
    Diagnosis,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Identity, Pane::Endpoint, Pane::Queries, Pane::Diagnosis];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Identity => "Identity",
            Pane::Endpoint => "Endpoint & TLS",
            Pane::Queries => "Query attempts",
            Pane::Diagnosis => "Diagnosis",
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    NextPane,
    PrevPane,
    Up,
    Down,
    Left,
    Right,
    Toggle,
    Rerun,
    Export,
    Copy,
    Help,
    CloseOverlay,
    NextScenario,
    DetailDown,
    DetailUp,
    Paste,
    Quit,
}

/// Maps a key to an action; `None` for keys that do nothing.
pub fn action_for(key: KeyEvent, help_open: bool) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc if help_open => Action::CloseOverlay,
        _ if help_open => return None,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Enter | KeyCode::Char(' ') => Action::Toggle,
        KeyCode::Char('r') => Action::Rerun,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('c') => Action::Copy,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('s') => Action::NextScenario,
        KeyCode::Char('p') => Action::Paste,
        KeyCode::PageDown | KeyCode::Char('J') => Action::DetailDown,
        KeyCode::PageUp | KeyCode::Char('K') => Action::DetailUp,
        _ => return None,
    })
}

/// Every key binding by its full name, for the help overlay.
pub const BINDINGS: &[(&str, &str)] = &[
    ("Tab", "next pane"),
    ("Shift-Tab", "previous pane"),
    ("Up / k", "move up"),
    ("Down / j", "move down"),
    ("Left / h", "collapse (Diagnosis)"),
    ("Right / l", "expand (Diagnosis)"),
    ("Enter / Space", "expand or collapse the selected node"),
    ("PgDn / J", "scroll the detail of the selected row down"),
    ("PgUp / K", "scroll the detail of the selected row up"),
    ("r", "re-run every probe on a new connection"),
    ("e", "export the report (Markdown, redacted) to a file"),
    ("c", "copy the selected fix command (OSC 52)"),
    ("s", "next scenario (demo only)"),
    ("p", "paste your app's error and walk it, beside the panes"),
    (
        "digits / Backspace",
        "walk: answer (Enter ends a 2-digit number) / undo",
    ),
    ("?", "open this help"),
    ("Esc", "close this help"),
    ("q / Ctrl-C", "quit"),
];

/// A view over the panes that takes the keys while it is open.
pub enum Overlay {
    /// A text box for the application's own error line (typed or pasted).
    Paste(String),
    /// The decision tree walked from that text, question by question.
    Walk(Box<WalkView>),
}

pub struct WalkView {
    pub text: String,
    pub walk: crate::walk::Walk,
    pub scroll: u16,
    /// Digits typed toward an answer's number, when a question has ten answers or more.
    pub typed: String,
}

impl WalkView {
    /// A digit toward an answer: the answer is taken as soon as no further digit could
    /// name another one (at once for questions of up to nine answers), else on Enter.
    fn digit(&mut self, d: char) {
        let count = self.walk.question().map(|q| q.answers.len()).unwrap_or(0);
        self.typed.push(d);
        let n: usize = self.typed.parse().unwrap_or(0);
        if n == 0 || n > count {
            self.typed.clear();
        } else if n * 10 > count {
            self.choose();
        }
    }

    fn choose(&mut self) {
        if let Ok(n) = self.typed.parse::<usize>()
            && self.walk.answer(n)
        {
            self.scroll = 0;
        }
        self.typed.clear();
    }
}

/// The largest text the paste box keeps (as `explain` reads).
const PASTE_MAX: usize = crate::explain::MAX_INPUT;

pub struct App {
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    /// The walk is the whole program (`explain --walk`): closing it quits.
    pub standalone: bool,
    pub evidence: Evidence,
    pub diagnosis: Diagnosis,
    pub probes: Vec<ProbeRecord>,
    pub attempts: Vec<QueryAttempt>,
    pub running: bool,
    pub started: Instant,
    pub spinner: usize,
    pub help: bool,
    pub message: Option<String>,
    pub tree: TreeState<String>,
    pub scroll: [u16; 4],
    /// How far the Diagnosis detail (the selected row, whole) is scrolled.
    pub detail_scroll: u16,
    pub scenario: Option<String>,
    pub no_color: bool,
    pub quit: bool,
}

impl App {
    pub fn new(no_color: bool, scenario: Option<String>) -> App {
        let evidence = Evidence::default();
        App {
            focus: Pane::Diagnosis,
            overlay: None,
            standalone: false,
            diagnosis: diagnosis::evaluate(&evidence),
            evidence,
            probes: vec![],
            attempts: vec![],
            running: false,
            started: Instant::now(),
            spinner: 0,
            help: false,
            message: None,
            tree: TreeState::default(),
            scroll: [0; 4],
            detail_scroll: 0,
            scenario,
            no_color,
            quit: false,
        }
    }

    /// A new run starts: forget the old evidence.
    pub fn start_run(&mut self) {
        self.running = true;
        self.started = Instant::now();
        self.probes.clear();
        self.attempts.clear();
        self.evidence = Evidence::default();
        self.diagnosis = diagnosis::evaluate(&self.evidence);
    }

    pub fn apply(&mut self, ev: Event) {
        match ev {
            Event::Probe(r) => match self.probes.iter_mut().find(|p| p.name == r.name) {
                Some(p) => *p = r,
                None => self.probes.push(r),
            },
            Event::Attempt(a) => self.attempts.push(a),
            Event::Snapshot(e) => {
                self.evidence = *e;
                self.diagnosis = diagnosis::evaluate(&self.evidence);
                if let Some(q) = &self.evidence.cql {
                    self.attempts = q.attempts.clone();
                }
                if !self.evidence.probes.is_empty() {
                    self.probes = self.evidence.probes.clone();
                }
                if self.tree.selected().is_empty() {
                    self.tree.select(vec!["f0".to_string()]);
                    self.tree.open(vec!["f0".to_string()]);
                }
            }
        }
    }

    pub fn finish_run(&mut self) {
        self.running = false;
    }

    pub fn probe_status(&self, name: Step) -> Option<ProbeStatus> {
        self.probes.iter().find(|p| p.name == name).map(|p| p.status)
    }

    /// Applies an action that needs no I/O; returns the ones the loop must carry out.
    pub fn update(&mut self, a: Action) -> Option<Action> {
        match a {
            Action::Quit => self.quit = true,
            Action::Help => self.help = true,
            Action::CloseOverlay => self.help = false,
            Action::NextPane => self.focus = Pane::ALL[(self.focus.index() + 1) % 4],
            Action::PrevPane => self.focus = Pane::ALL[(self.focus.index() + 3) % 4],
            Action::Up if self.focus == Pane::Diagnosis => {
                self.tree.key_up();
                self.detail_scroll = 0;
            }
            Action::Down if self.focus == Pane::Diagnosis => {
                self.tree.key_down();
                self.detail_scroll = 0;
            }
            Action::DetailDown => self.detail_scroll = self.detail_scroll.saturating_add(3).min(500),
            Action::DetailUp => self.detail_scroll = self.detail_scroll.saturating_sub(3),
            Action::Left if self.focus == Pane::Diagnosis => {
                self.tree.key_left();
            }
            Action::Right if self.focus == Pane::Diagnosis => {
                self.tree.key_right();
            }
            Action::Toggle if self.focus == Pane::Diagnosis => {
                self.tree.toggle_selected();
            }
            Action::Up => {
                let s = &mut self.scroll[self.focus.index()];
                *s = s.saturating_sub(1);
            }
            Action::Down => {
                let s = &mut self.scroll[self.focus.index()];
                *s = s.saturating_add(1).min(500);
            }
            Action::Left | Action::Right | Action::Toggle => {}
            Action::Paste => self.open_paste(),
            other => return Some(other),
        }
        None
    }

    /// Opens the paste box (`p`).
    pub fn open_paste(&mut self) {
        self.overlay = Some(Overlay::Paste(String::new()));
    }

    /// Opens the walk of `text`.
    pub fn open_walk(&mut self, text: &str) {
        self.overlay = Some(Overlay::Walk(Box::new(WalkView {
            text: text.to_string(),
            walk: crate::walk::Walk::from_text(text),
            scroll: 0,
            typed: String::new(),
        })));
    }

    fn close_overlay(&mut self) {
        self.overlay = None;
        if self.standalone {
            self.quit = true;
        }
    }

    /// Text pasted into the terminal: into the paste box when it is open.
    pub fn paste(&mut self, text: &str) -> bool {
        match &mut self.overlay {
            Some(Overlay::Paste(buf)) => {
                // Terminals deliver a pasted line break as CR: the paste keeps its lines.
                let text = text.replace("\r\n", "\n").replace('\r', "\n");
                let room = PASTE_MAX.saturating_sub(buf.len());
                buf.extend(text.chars().scan(0usize, |n, c| {
                    *n += c.len_utf8();
                    (*n <= room).then_some(c)
                }));
                true
            }
            _ => false,
        }
    }

    /// A key while an overlay is open. In the paste box every printable key is text
    /// (so `q` does not quit); Enter explains, Esc closes. In the walk, digits answer,
    /// Backspace takes the last answer back, ↑↓/PgUp/PgDn scroll, Esc closes, q quits.
    pub fn overlay_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        match &mut self.overlay {
            None => {}
            Some(Overlay::Paste(buf)) => match key.code {
                KeyCode::Esc => self.close_overlay(),
                KeyCode::Enter if !buf.trim().is_empty() => {
                    let text = std::mem::take(buf);
                    self.open_walk(&text);
                }
                KeyCode::Backspace => {
                    buf.pop();
                }
                KeyCode::Char(c) if buf.len() < PASTE_MAX => buf.push(c),
                _ => {}
            },
            Some(Overlay::Walk(v)) => match key.code {
                KeyCode::Esc => self.close_overlay(),
                KeyCode::Char('q') => self.quit = true,
                KeyCode::Char(c @ '0'..='9') => v.digit(c),
                KeyCode::Enter if !v.typed.is_empty() => v.choose(),
                KeyCode::Backspace if !v.typed.is_empty() => {
                    v.typed.pop();
                }
                KeyCode::Backspace | KeyCode::Char('u') => {
                    v.walk.undo();
                }
                KeyCode::Down | KeyCode::Char('j') => v.scroll = v.scroll.saturating_add(1).min(500),
                KeyCode::Up | KeyCode::Char('k') => v.scroll = v.scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char('J') => v.scroll = v.scroll.saturating_add(10).min(500),
                KeyCode::PageUp | KeyCode::Char('K') => v.scroll = v.scroll.saturating_sub(10),
                _ => {}
            },
        }
    }

    /// The selected row of the Diagnosis tree, whole: what the detail view shows.
    pub fn selected_detail(&self) -> Vec<String> {
        let sel = self.tree.selected();
        let Some(id) = sel.last() else { return vec![] };
        let num = |s: &str| -> Option<(usize, Option<usize>)> {
            let mut it = s.split('-');
            let a = it.next()?.parse().ok()?;
            Some((a, it.next().and_then(|b| b.parse().ok())))
        };
        let prefix: String = id.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let Some((i, j)) = num(&id[prefix.len()..]) else {
            return vec![];
        };
        let Some(f) = self.diagnosis.findings.get(i) else {
            return vec![];
        };
        let command = |c: &String| match crate::diagnosis::leaves::line_kind(c) {
            crate::diagnosis::leaves::LineKind::Shell => format!("$ {c}   (c copies it)"),
            crate::diagnosis::leaves::LineKind::Config => format!("config line: {c}   (c copies it)"),
        };
        match (prefix.as_str(), j) {
            ("f", _) => {
                let mut v = vec![format!("{} ({})", f.title, f.cause.as_str()), format!("Why: {}", f.why)];
                v.extend(f.evidence.iter().map(|e| format!("Evidence: {e}")));
                v
            }
            ("why", _) => vec![format!("Why: {}", f.why)],
            ("path", _) => f
                .path
                .iter()
                .map(|p| format!("{} → {}", p.question, p.answer))
                .collect(),
            ("p", Some(j)) => f
                .path
                .get(j)
                .map(|p| vec![format!("Question: {}", p.question), format!("Answer: {}", p.answer)])
                .unwrap_or_default(),
            ("ev", _) => f.evidence.clone(),
            ("e", Some(j)) => f.evidence.get(j).cloned().into_iter().collect(),
            ("fix", _) => f
                .fix
                .steps
                .iter()
                .enumerate()
                .map(|(n, s)| format!("{}. {s}", n + 1))
                .chain(f.fix.commands.iter().map(command))
                .collect(),
            ("s", Some(j)) => f
                .fix
                .steps
                .get(j)
                .map(|s| format!("{}. {s}", j + 1))
                .into_iter()
                .collect(),
            ("cmd", Some(j)) => f.fix.commands.get(j).map(command).into_iter().collect(),
            ("doc", _) => vec![format!("Doc: {}", f.fix.doc), format!("Retry: {}", f.fix.retry)],
            _ => vec![],
        }
    }

    /// The fix command under the Diagnosis selection, else the root finding's first.
    pub fn selected_command(&self) -> Option<String> {
        let sel = self.tree.selected();
        if let Some(last) = sel.last()
            && let Some(rest) = last.strip_prefix("cmd")
        {
            let mut it = rest.split('-');
            let f: usize = it.next()?.parse().ok()?;
            let c: usize = it.next()?.parse().ok()?;
            return self.diagnosis.findings.get(f)?.fix.commands.get(c).cloned();
        }
        let fi: usize = sel
            .first()
            .and_then(|s| s.strip_prefix('f'))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        self.diagnosis.findings.get(fi)?.fix.commands.first().cloned()
    }

    /// The keys that matter here, as many as fit in `width` columns, most important
    /// first; `q quit`, `? help` and (in demo) `s next scenario` always stay.
    pub fn footer(&self, width: u16) -> String {
        if self.help {
            return "Esc close help · q quit".into();
        }
        match &self.overlay {
            Some(Overlay::Paste(_)) => return "paste or type the error · Enter explain · Esc close".into(),
            Some(Overlay::Walk(v)) => {
                let keys = if v.walk.question().is_some() {
                    "digits answer · Backspace change last answer · ↑↓ scroll · Esc close · q quit"
                } else {
                    "Backspace change last answer · ↑↓ PgDn scroll · Esc close · q quit"
                };
                return keys.into();
            }
            None => {}
        }
        let demo = self.scenario.is_some();
        let mut keys: Vec<(&str, bool)> = vec![("Tab pane", false)];
        match self.focus {
            Pane::Diagnosis => keys.extend([("↑↓ move", false), ("Enter expand", false), ("c copy", false)]),
            _ => keys.push(("↑↓ scroll", false)),
        }
        if demo {
            keys.push(("s next scenario", true));
        }
        keys.push(("p paste error", false));
        keys.extend([
            ("? help", true),
            ("q quit", true),
            ("e export", false),
            ("r re-run", false),
        ]);
        let fixed: usize = keys
            .iter()
            .filter(|(_, must)| *must)
            .map(|(k, _)| k.chars().count() + 3)
            .sum();
        let mut room = (width as usize).saturating_sub(fixed);
        let mut shown = Vec::new();
        for (k, must) in keys {
            let cost = k.chars().count() + 3;
            if must {
                shown.push(k);
            } else if cost <= room {
                room -= cost;
                shown.push(k);
            }
        }
        shown.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, m, KeyEventKind::Press)
    }

    #[test]
    fn the_footer_fits_and_keeps_the_keys_that_matter() {
        let mut app = App::new(true, Some("missing-select".into()));
        app.focus = Pane::Diagnosis;
        let f = app.footer(80);
        assert!(f.chars().count() <= 80, "{f}");
        for k in ["Tab", "↑↓", "Enter", "? help", "q quit", "s next scenario"] {
            assert!(f.contains(k), "{k} in {f}");
        }
        let wide = app.footer(200);
        assert!(wide.contains("e export") && wide.contains("r re-run"), "{wide}");
        let narrow = app.footer(40);
        assert!(
            narrow.contains("q quit") && narrow.contains("s next scenario"),
            "{narrow}"
        );
    }

    /// A question of more than nine answers takes two-digit numbers: a digit that could
    /// still go on waits for the next or for Enter; one that cannot answers at once.
    #[test]
    fn every_answer_of_a_long_question_is_reachable_by_number() {
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let count = |app: &App| match &app.overlay {
            Some(Overlay::Walk(v)) => (v.walk.steps.len(), v.walk.question().map(|q| q.answers.len())),
            _ => (0, None),
        };
        let mut app = App::new(true, None);
        app.open_walk("xyzzy");
        let (steps, answers) = count(&app);
        let answers = answers.expect("the root question is open");
        assert!(answers >= 12, "the root has many answers: {answers}");
        app.overlay_key(key('1'));
        assert_eq!(count(&app).0, steps, "1 could still be 1x: it waits");
        app.overlay_key(key('2'));
        assert_eq!(count(&app).0, steps + 1, "12 answers at once");
        match &app.overlay {
            Some(Overlay::Walk(v)) => assert_eq!(v.walk.steps.last().map(|s| s.branch), Some(11)),
            _ => panic!("the walk"),
        }
        app.overlay_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        app.overlay_key(key('1'));
        app.overlay_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        match &app.overlay {
            Some(Overlay::Walk(v)) => assert_eq!(v.walk.steps.last().map(|s| s.branch), Some(0), "1 then Enter"),
            _ => panic!("the walk"),
        }
    }

    #[test]
    fn a_pasted_line_break_is_a_line_break() {
        let mut app = App::new(true, None);
        assert!(!app.paste("ignored"), "no box open");
        app.open_paste();
        assert!(app.paste("first\rsecond\r\nthird"));
        match &app.overlay {
            Some(Overlay::Paste(b)) => assert_eq!(b, "first\nsecond\nthird"),
            _ => panic!("the paste box"),
        }
    }

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(
            action_for(key(KeyCode::Char('c'), KeyModifiers::CONTROL), false),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(key(KeyCode::BackTab, KeyModifiers::SHIFT), false),
            Some(Action::PrevPane)
        );
        assert_eq!(
            action_for(key(KeyCode::Esc, KeyModifiers::NONE), true),
            Some(Action::CloseOverlay)
        );
        assert_eq!(action_for(key(KeyCode::Tab, KeyModifiers::NONE), true), None);
        let mut app = App::new(true, None);
        app.update(Action::NextPane);
        assert_eq!(app.focus, Pane::Identity);
        app.update(Action::PrevPane);
        assert_eq!(app.focus, Pane::Diagnosis);
        assert!(BINDINGS.iter().any(|(k, _)| *k == "Shift-Tab"));
        assert!(BINDINGS.iter().any(|(k, _)| k.contains("Ctrl-C")));
    }
}

//! Draws the overlays: the paste box, and the walk (what the text decided, the open
//! question with numbered answers, then the leaf's finding and fix). Rendering only;
//! the state and its keys are in `app`.
use super::app::{App, Overlay, WalkView};
use crate::walk::AnsweredBy;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let Some(overlay) = &app.overlay else { return };
    let r = if app.standalone {
        area
    } else {
        // Over the panes, leaving a column each side so it reads as an overlay.
        Rect {
            x: area.x + 1,
            y: area.y,
            width: area.width.saturating_sub(2),
            height: area.height,
        }
    };
    f.render_widget(Clear, r);
    let (title, lines, scroll) = match overlay {
        Overlay::Paste(buf) => (
            " Paste your application's error (Enter explains it, Esc closes) ",
            paste_lines(buf),
            0,
        ),
        Overlay::Walk(v) => (" The decision tree, walked ", walk_lines(v), v.scroll),
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

fn paste_lines(buf: &str) -> Vec<Line<'static>> {
    let mut l = vec![Line::from(
        "The line your application logs when it fails (a driver exception, an SDK or TLS error):",
    )];
    l.push(Line::from(""));
    if buf.is_empty() {
        l.push(Line::from("▏").style(Style::default().add_modifier(Modifier::DIM)));
    } else {
        for line in crate::outside::text::clean(buf).lines() {
            l.push(Line::from(line.to_string()));
        }
        l.push(Line::from(format!("({} characters)", buf.chars().count())));
    }
    l
}

fn walk_lines(v: &WalkView) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut l = Vec::new();
    let shown = crate::outside::text::clean(v.text.lines().find(|x| !x.trim().is_empty()).unwrap_or_default());
    l.push(Line::from(format!("Error: {shown}")));
    l.push(Line::from(""));
    for s in &v.walk.steps {
        let by = match s.by {
            AnsweredBy::Text => "from the text",
            AnsweredBy::You => "your answer; Backspace changes it",
        };
        l.push(Line::from(format!("✓ {} → {} ({by})", s.question, s.answer)));
    }
    if let Some(q) = v.walk.question() {
        l.push(Line::from(""));
        l.push(Line::from(format!("? {}", q.question)).style(bold));
        for (i, a) in q.answers.iter().enumerate() {
            l.push(Line::from(format!("  {}) {a}", i + 1)));
        }
        if !v.typed.is_empty() {
            l.push(Line::from(format!("Answer {}_ (another digit, or Enter)", v.typed)).style(bold));
        }
        l.push(Line::from(""));
        l.push(Line::from(format!("How to find out: {}", q.ask)));
        if v.walk.steps.is_empty()
            && let Some(e) = &v.walk.explanation
            && !e.candidates.is_empty()
        {
            l.push(Line::from(""));
            l.push(Line::from("The text alone suggests:"));
            for c in e.candidates.iter().take(5) {
                l.push(Line::from(format!(
                    "  - {} ({}): {}",
                    c.leaf,
                    c.cause.as_str(),
                    c.title
                )));
            }
        }
    }
    if let Some(leaf) = v.walk.leaf() {
        let vars = &v.walk.vars;
        let fill = |s: &str| crate::walk::fill(s, vars);
        l.push(Line::from(""));
        l.push(Line::from(format!("✗ {} — {}", leaf.cause.as_str(), fill(&leaf.title))).style(bold));
        l.push(Line::from(format!("Why: {}", fill(&leaf.why))));
        l.push(Line::from("Fix:").style(bold));
        for (i, s) in leaf.fix.iter().enumerate() {
            l.push(Line::from(format!("  {}. {}", i + 1, fill(s))));
        }
        for c in &leaf.commands {
            let (line, _) = crate::diagnosis::leaves::fill_command(c, vars);
            let line = crate::walk::fill(&line, vars);
            let shown = match crate::diagnosis::leaves::line_kind(&line) {
                crate::diagnosis::leaves::LineKind::Shell => format!("  $ {line}"),
                crate::diagnosis::leaves::LineKind::Config => format!("  config line: {line}"),
            };
            l.push(Line::from(shown));
        }
        l.push(Line::from(format!("Doc: {}", leaf.doc)));
        l.push(Line::from(format!("Retry: {}", leaf.retry)));
    }
    l
}

//! Draws the app from its state: four panes (a 2×2 grid on large terminals, tabs on
//! small ones), a status line with the diagnosis headline and a footer of keys.
//! Rendering only; it never awaits anything.
use super::app::{App, BINDINGS, Pane};
use crate::diagnosis::Severity;
use crate::diagnosis::leaves::{self, HintPane};
use crate::evidence::{AttemptOutcome, ProbeStatus, Step, TcpOutcome, TlsOutcome};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};
use tui_tree_widget::{Tree, TreeItem};

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

fn color(app: &App, c: Color) -> Style {
    if app.no_color {
        Style::default()
    } else {
        Style::default().fg(c)
    }
}

fn status_mark(s: Option<ProbeStatus>) -> &'static str {
    match s {
        Some(ProbeStatus::Ok) => "✓ ok",
        Some(ProbeStatus::Failed) => "✗ failed",
        Some(ProbeStatus::TimedOut) => "✗ timed out",
        Some(ProbeStatus::Skipped) => "- skipped",
        Some(ProbeStatus::Running) => "… running",
        None => "… waiting",
    }
}

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    if area.height < 3 || area.width < 10 {
        f.render_widget(Paragraph::new("keyspaces-doctor: terminal too small"), area);
        return;
    }
    let [status, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    draw_status(f, app, status);
    if app.standalone {
        f.render_widget(
            Paragraph::new(app.footer(footer.width)).style(Style::default().add_modifier(Modifier::DIM)),
            footer,
        );
        super::walk_view::draw(f, app, body);
        return;
    }
    match &app.message {
        Some(m) => f.render_widget(Paragraph::new(format!("{m} · ? help · q quit")), footer),
        None => f.render_widget(
            Paragraph::new(app.footer(footer.width)).style(Style::default().add_modifier(Modifier::DIM)),
            footer,
        ),
    }
    if area.width >= 120 && area.height >= 30 {
        let [top, bottom] = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        let [a, b] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
        let [c, d] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
        draw_pane(f, app, Pane::Identity, a);
        draw_pane(f, app, Pane::Endpoint, b);
        draw_pane(f, app, Pane::Queries, c);
        draw_pane(f, app, Pane::Diagnosis, d);
    } else {
        let [tabs, pane] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
        let titles: Vec<Line> = Pane::ALL
            .iter()
            .map(|p| {
                if *p == app.focus {
                    Line::from(format!("▶{}", p.title())).style(Style::default().add_modifier(Modifier::BOLD))
                } else {
                    Line::from(p.title())
                }
            })
            .collect();
        let sel = Pane::ALL.iter().position(|p| *p == app.focus).unwrap_or(0);
        f.render_widget(Tabs::new(titles).select(sel).divider("|"), tabs);
        let focus = app.focus;
        draw_pane(f, app, focus, pane);
    }
    super::walk_view::draw(f, app, body);
    if app.help {
        draw_help(f, area);
    }
}

/// `text` cut to `width` characters at a word boundary, with "…" (the whole text is in
/// the detail view).
pub fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let room = width.saturating_sub(1);
    let cut: String = text.chars().take(room).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i > room * 2 / 3 => cut[..i].trim_end().to_string(),
        _ => cut,
    };
    format!("{at_word}…")
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![Span::styled(
        "keyspaces-doctor ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if let Some(s) = &app.scenario {
        spans.push(Span::raw(format!("[demo: {s}] ")));
    }
    if app.standalone {
        spans.push(Span::raw("explain --walk: "));
        let walk = match &app.overlay {
            Some(super::app::Overlay::Walk(v)) => Some(&v.walk),
            _ => None,
        };
        let headline = match (walk.and_then(|w| w.leaf()), walk.and_then(|w| w.question())) {
            (Some(l), _) => format!(
                "✗ {} — {}",
                l.cause.as_str(),
                crate::walk::fill(&l.title, walk.map(|w| &w.vars).unwrap_or(&Default::default()))
            ),
            (None, Some(_)) => "answer the question to reach the cause".to_string(),
            (None, None) => "paste the error to start".to_string(),
        };
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        spans.push(Span::styled(
            shorten(&headline, (area.width as usize).saturating_sub(used)),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if app.running {
        spans.push(Span::raw(format!(
            "{} diagnosing… {:.1}s",
            SPINNER[app.spinner % SPINNER.len()],
            app.started.elapsed().as_secs_f32()
        )));
    } else {
        let style = if app.diagnosis.ok() {
            color(app, Color::Green)
        } else {
            color(app, Color::Red)
        };
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        spans.push(Span::styled(
            shorten(&app.diagnosis.headline(), (area.width as usize).saturating_sub(used)),
            style.add_modifier(Modifier::BOLD),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn block(app: &App, pane: Pane, state: &str) -> Block<'static> {
    let focused = app.focus == pane;
    let title = if focused {
        format!("▶ {} [{state}]", pane.title())
    } else {
        format!(" {} [{state}]", pane.title())
    };
    let style = if focused {
        Style::default().add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    Block::default().borders(Borders::ALL).title(Span::styled(title, style))
}

/// The first fix step of the first finding whose leaf hints at this pane.
fn remedy_for(app: &App, pane: HintPane) -> Option<Line<'static>> {
    let f = app
        .diagnosis
        .findings
        .iter()
        .find(|f| leaves::get(f.leaf).is_some_and(|l| l.hint == Some(pane)))?;
    Some(Line::from(format!(
        "  → Fix: {}",
        f.fix.steps.first().cloned().unwrap_or_default()
    )))
}

fn draw_pane(f: &mut Frame, app: &mut App, pane: Pane, area: Rect) {
    let idx = Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0);
    let (lines, state) = match pane {
        Pane::Identity => identity_lines(app),
        Pane::Endpoint => endpoint_lines(app),
        Pane::Queries => query_lines(app),
        Pane::Diagnosis => return draw_diagnosis(f, app, area),
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(block(app, pane, &state))
            .wrap(Wrap { trim: false })
            .scroll((app.scroll[idx], 0)),
        area,
    );
}

fn running_line(app: &App, probe: Step) -> Option<Line<'static>> {
    match app.probe_status(probe) {
        Some(ProbeStatus::Running) | None if app.running => Some(Line::from(format!(
            "{} {probe} running… {:.1}s",
            SPINNER[app.spinner % SPINNER.len()],
            app.started.elapsed().as_secs_f32()
        ))),
        _ => None,
    }
}

fn identity_lines(app: &App) -> (Vec<Line<'static>>, String) {
    let mut l = Vec::new();
    let state = status_mark(app.probe_status(Step::Identity)).to_string();
    if let Some(r) = running_line(app, Step::Identity) {
        l.push(r);
    }
    let t = &app.evidence.target;
    let Some(id) = &app.evidence.identity else {
        l.push(Line::from(format!("Auth mode: {}", t.auth)));
        return (l, state);
    };
    match &id.caller {
        Some(c) => {
            l.push(Line::from(format!("Caller: {}", c.arn)));
            l.push(Line::from(format!("Account: {}", c.account)));
        }
        None => l.push(Line::from("Caller: unknown (STS did not answer with an identity)")),
    }
    l.push(Line::from(format!(
        "Credential source: {}",
        id.credential_source.clone().unwrap_or_else(|| "none found".into())
    )));
    if let Some(k) = &id.access_key_last4 {
        let kind = match id.long_term_key {
            Some(true) => "long-term (AKIA)",
            _ => "temporary",
        };
        l.push(Line::from(format!(
            "Access key: …{k} ({kind}{})",
            if id.has_session_token { ", session token" } else { "" }
        )));
    }
    if let Some(e) = &id.expires_at {
        let left = chrono::DateTime::parse_from_rfc3339(e)
            .map(|t| (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds())
            .unwrap_or(0);
        let when = if left <= 0 {
            "EXPIRED".to_string()
        } else {
            format!("in {}m{:02}s", left / 60, left % 60)
        };
        l.push(Line::from(format!("Expires: {e} ({when})")));
    }
    if let Some(o) = id.clock_offset_secs {
        l.push(Line::from(format!("Clock offset vs AWS: {o:+} s")));
    }
    l.push(Line::from(format!(
        "Region: {} (from {})",
        t.region.clone().unwrap_or_else(|| "none".into()),
        t.region_source
    )));
    l.push(Line::from(format!("Auth mode: {}", t.auth)));
    if let Some(a) = &id.assume_role {
        match &a.error {
            Some(e) => l.push(Line::from(format!(
                "✗ AssumeRole {}: {}",
                a.role_arn,
                e.code.clone().unwrap_or_default()
            ))),
            None => l.push(Line::from(format!(
                "✓ Assumed {}",
                a.assumed_arn.clone().unwrap_or_default()
            ))),
        }
    }
    if let Some(e) = &id.sts_error {
        l.push(Line::from(format!(
            "✗ STS: {} {}",
            e.code.clone().unwrap_or_default(),
            e.message
        )));
        if let Some(r) = remedy_for(app, HintPane::Identity) {
            l.push(r);
        }
    }
    if let Some(e) = &id.chain_error {
        l.push(Line::from(format!(
            "✗ No AWS credentials: {}",
            e.lines().next().unwrap_or_default()
        )));
    }
    if let Some(p) = &id.policies {
        match &p.unreadable {
            Some(u) => l.push(Line::from(format!("Policies: not readable ({u})"))),
            None => l.push(Line::from(format!(
                "Policies: {}{}",
                p.policies
                    .iter()
                    .map(|x| x.arn.rsplit('/').next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                p.boundary
                    .as_ref()
                    .map(|b| format!(" (boundary {})", b.arn))
                    .unwrap_or_default()
            ))),
        }
    }
    for line in crate::digest::service_credential_lines(&app.evidence) {
        l.push(Line::from(line));
    }
    if let Some(t) = &id.cloudtrail {
        match &t.unavailable {
            Some(why) => l.push(Line::from(format!("CloudTrail: not available ({why})"))),
            None => {
                for e in &t.events {
                    l.push(Line::from(format!(
                        "✗ CloudTrail {} {} {}",
                        e.time, e.event_name, e.error_code
                    )));
                }
            }
        }
    }
    // Denied checks first (they explain the failure), the allowed ones as one count.
    let (attention, fine): (Vec<_>, Vec<_>) = crate::digest::policy_checks(&app.evidence)
        .into_iter()
        .partition(|(a, _)| *a);
    let allowed = fine.len();
    for (_, line) in attention {
        l.push(Line::from(line));
    }
    if allowed > 0 {
        l.push(Line::from(format!(
            "✓ {allowed} more probed action(s) allowed (local | IAM simulator)"
        )));
    }
    (l, state)
}

fn endpoint_lines(app: &App) -> (Vec<Line<'static>>, String) {
    let mut l = Vec::new();
    let ev = &app.evidence;
    let mut state = status_mark(
        app.probe_status(Step::Tls)
            .or(app.probe_status(Step::Tcp))
            .or(app.probe_status(Step::Dns)),
    )
    .to_string();
    // The badge is the worst of the pane: the trust source the client uses failing is ✗,
    // only other sources failing is ⚠.
    if let Some(t) = ev.tls.as_ref().filter(|_| state == "✓ ok") {
        use crate::evidence::{TrustSource, VerifyProblem};
        let used = if ev.target.ca_file.is_some() {
            TrustSource::CaFile
        } else {
            TrustSource::System
        };
        match t.verdicts.iter().find(|v| v.source == used) {
            Some(v) if !v.verified && v.problem == Some(VerifyProblem::NameMismatch) => {
                state = "✗ name mismatch".into()
            }
            Some(v) if !v.verified => state = "✗ not trusted".into(),
            _ if t.verdicts.iter().any(|v| !v.verified) => state = "⚠ other stores fail".into(),
            _ => {}
        }
    }
    if let Some(r) = running_line(app, Step::Tls) {
        l.push(r);
    }
    l.push(Line::from(format!("Host: {}:{}", ev.target.host, ev.target.port)));
    // The deployed configuration next to the endpoint it is meant for.
    for line in crate::digest::driver_config_lines(ev) {
        let mark = if line.starts_with("  ") { "" } else { "Config: " };
        l.push(Line::from(format!("{mark}{line}")));
    }
    if let Some(d) = &ev.dns {
        match &d.error {
            Some(e) => l.push(Line::from(format!("✗ DNS: {e}"))),
            None => l.push(Line::from(format!(
                "DNS: {}{}{}",
                d.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "),
                if d.via_resolve_flag { " (--resolve)" } else { "" },
                if d.private { " private" } else { " public" }
            ))),
        }
    }
    if let Some(t) = &ev.tcp {
        let o = match &t.outcome {
            TcpOutcome::Connected => format!("✓ connected in {} ms", t.connect_ms),
            TcpOutcome::Refused => "✗ refused".into(),
            TcpOutcome::TimedOut => "✗ timed out".into(),
            TcpOutcome::Error { message } => format!("✗ {message}"),
        };
        l.push(Line::from(format!("TCP {}: {o}", t.address)));
    }
    if let Some(t) = &ev.tls {
        let o = match &t.outcome {
            TlsOutcome::Established => format!(
                "✓ {} {} {}",
                t.version.clone().unwrap_or_default(),
                t.cipher.clone().unwrap_or_default(),
                t.key_exchange.clone().unwrap_or_default()
            ),
            TlsOutcome::NoAnswer => "✗ no TLS answer (not a Keyspaces port?)".into(),
            other => format!("✗ {other:?}"),
        };
        l.push(Line::from(format!("TLS: {o}")));
        l.push(Line::from(format!(
            "Verify name: {} · SNI: {}",
            t.verify_name,
            t.sni.clone().unwrap_or_else(|| "none".into())
        )));
        for (i, c) in t.chain.iter().enumerate() {
            l.push(Line::from(format!("  [{i}] {} (until {})", c.subject, c.not_after)));
            l.push(Line::from(format!("      issuer {}", c.issuer)));
        }
        for v in &t.verdicts {
            let src = match v.source {
                crate::evidence::TrustSource::CaFile => "CA file",
                crate::evidence::TrustSource::System => "System store",
                crate::evidence::TrustSource::KeyspacesRoots => "Keyspaces roots",
            };
            l.push(Line::from(format!(
                "{} {src}: {}",
                if v.verified { "✓" } else { "✗" },
                if v.verified {
                    "trusted".to_string()
                } else {
                    format!(
                        "not trusted: {}",
                        v.problem
                            .map(|p| p.to_string())
                            .unwrap_or_else(|| "the chain does not verify".into())
                    )
                }
            )));
        }
        if let Some(r) = remedy_for(app, HintPane::Endpoint) {
            l.push(r);
        }
    }
    if let Some(d) = ev.cql.as_ref().and_then(|q| q.driver.as_ref()) {
        l.push(Line::from(format!(
            "{} Driver ({}): {} (sends no SNI)",
            if d.ok { "✓" } else { "✗" },
            d.driver,
            d.detail
        )));
    }
    (l, state)
}

fn query_lines(app: &App) -> (Vec<Line<'static>>, String) {
    let mut l = Vec::new();
    let state = status_mark(app.probe_status(Step::Cql)).to_string();
    if let Some(r) = running_line(app, Step::Cql) {
        l.push(r);
    }
    if let Some(q) = &app.evidence.cql {
        if let Some(a) = &q.authenticator {
            l.push(Line::from(format!("Authenticator: {a}")));
        }
        if let Some(a) = &q.auth {
            l.push(Line::from(format!(
                "{} AUTH ({}, {} ms){}",
                if a.ok { "✓" } else { "✗" },
                app.evidence.target.auth,
                a.duration_ms,
                a.code
                    .map(|c| format!(" 0x{c:04X}: {}", a.message.clone().unwrap_or_default()))
                    .or(a.message.clone().filter(|_| !a.ok).map(|m| format!(": {m}")))
                    .unwrap_or_default()
            )));
        }
        if let Some(e) = &q.connection_error {
            l.push(Line::from(format!("✗ {e}")));
        }
    } else if !app.running && app.probe_status(Step::Cql) == Some(ProbeStatus::Skipped) {
        l.push(Line::from(
            "No CQL attempt: the endpoint did not complete a TLS handshake.",
        ));
    }
    for a in &app.attempts {
        let o = match &a.outcome {
            AttemptOutcome::Ok { rows } => format!("✓ {rows} rows"),
            AttemptOutcome::Error { code, message } => format!("✗ 0x{code:04X} {message}"),
            AttemptOutcome::TimedOut => "✗ timed out".into(),
            AttemptOutcome::Failed { message } => format!("✗ {message}"),
            AttemptOutcome::Skipped { reason } => format!("- {reason}"),
        };
        l.push(Line::from(format!(
            "{:<22} {:<10} {:>4}ms {o}",
            a.operation, a.consistency, a.duration_ms
        )));
    }
    let evaluated = crate::digest::operation_lines(&app.evidence);
    if !evaluated.is_empty() {
        l.push(Line::from("Evaluated, not run (--operations):"));
        l.extend(evaluated.into_iter().map(Line::from));
    }
    (l, state)
}

fn draw_diagnosis(f: &mut Frame, app: &mut App, area: Rect) {
    let state = if app.running {
        "… running".to_string()
    } else if app.diagnosis.ok() {
        "✓ ok".to_string()
    } else {
        format!(
            "✗ {} problem(s)",
            app.diagnosis
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Problem)
                .count()
        )
    };
    let b = block(app, Pane::Diagnosis, &state);
    let items: Vec<TreeItem<'static, String>> = app
        .diagnosis
        .findings
        .iter()
        .enumerate()
        .filter_map(|(i, fd)| {
            let mark = if fd.severity == Severity::Problem {
                "✗ PROBLEM"
            } else {
                "⚠ warning"
            };
            let mut children = vec![TreeItem::new_leaf(format!("why{i}"), format!("Why: {}", fd.why))];
            let path: Vec<TreeItem<'static, String>> = fd
                .path
                .iter()
                .enumerate()
                .map(|(j, s)| TreeItem::new_leaf(format!("p{i}-{j}"), format!("{} → {}", s.question, s.answer)))
                .collect();
            children.push(TreeItem::new(format!("path{i}"), "Path the evidence took", path).ok()?);
            let ev: Vec<TreeItem<'static, String>> = fd
                .evidence
                .iter()
                .enumerate()
                .map(|(j, e)| TreeItem::new_leaf(format!("e{i}-{j}"), e.clone()))
                .collect();
            children.push(TreeItem::new(format!("ev{i}"), "Evidence", ev).ok()?);
            let mut fix: Vec<TreeItem<'static, String>> = fd
                .fix
                .steps
                .iter()
                .enumerate()
                .map(|(j, s)| TreeItem::new_leaf(format!("s{i}-{j}"), format!("{}. {s}", j + 1)))
                .collect();
            fix.extend(fd.fix.commands.iter().enumerate().map(|(j, c)| {
                let shown = match crate::diagnosis::leaves::line_kind(c) {
                    crate::diagnosis::leaves::LineKind::Shell => format!("$ {c}"),
                    crate::diagnosis::leaves::LineKind::Config => format!("  {c}"),
                };
                TreeItem::new_leaf(format!("cmd{i}-{j}"), shown)
            }));
            children.push(TreeItem::new(format!("fix{i}"), "Fix (c copies the selected command)", fix).ok()?);
            children.push(TreeItem::new_leaf(format!("doc{i}"), format!("Doc: {}", fd.fix.doc)));
            TreeItem::new(
                format!("f{i}"),
                format!("{mark} {}: {}", fd.cause.as_str(), fd.title),
                children,
            )
            .ok()
        })
        .collect();
    if items.is_empty() {
        let text = if app.running {
            "Waiting for evidence…"
        } else {
            "✓ No findings: the connection works."
        };
        f.render_widget(Paragraph::new(text).block(b), area);
        return;
    }
    let highlight = if app.no_color {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    } else {
        Style::default()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    };
    // The selected row, whole and wrapped, under the tree: every word of every finding
    // is reachable with the keyboard at 80x24.
    let detail = app.selected_detail();
    let (tree_area, detail_area) = if detail.is_empty() || area.height < 12 {
        (area, None)
    } else {
        let [t, d] = Layout::vertical([Constraint::Percentage(45), Constraint::Min(5)]).areas(area);
        (t, Some(d))
    };
    match Tree::new(&items) {
        Ok(tree) => {
            let tree = tree.block(b).highlight_style(highlight).highlight_symbol("> ");
            f.render_stateful_widget(tree, tree_area, &mut app.tree);
        }
        Err(e) => f.render_widget(Paragraph::new(format!("cannot draw the tree: {e}")).block(b), tree_area),
    }
    if let Some(d) = detail_area {
        let lines: Vec<Line> = detail.into_iter().map(Line::from).collect();
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((app.detail_scroll, 0))
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" Selected, whole (PgDn/PgUp scroll) "),
                ),
            d,
        );
    }
}

fn draw_help(f: &mut Frame, area: Rect) {
    let w = area.width.min(78);
    let h = (BINDINGS.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line> = BINDINGS
        .iter()
        .map(|(k, d)| Line::from(format!("{k:<14} {d}")))
        .collect();
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title("Help: key bindings (Esc closes)"),
        ),
        r,
    );
}

//! The engine's state and the one function that folds an event into it: update the
//! identities' counters, run the detectors, raise risk, decide verdicts, raise alerts.

use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::Arc;

use crate::alert::AlertBook;
use crate::config::{Config, ms};
use crate::detect::auth::{self, AuthGlobal, AuthKeys};
use crate::detect::flood::{self, FloodGlobal};
use crate::detect::transfer::Transfer;
use crate::detect::{Detector, Finding, Scope, Severity, bot, enumeration, ev, num, probe};
use crate::event::{AuthOutcome, Event, ExportEvent, RequestEvent, ResourceReadEvent, SessionKey};
use crate::model::AnomalyModel;
use crate::risk::{Block, Level, Verdicts};
use crate::sketch::CountMinSketch;
use crate::state::{AccountState, Common, SessionState, SourceState, TokenState};
use crate::table::BoundedTable;

/// Width of the source sketch (4 rows of this many 16-bit counters, twice: 1 MiB).
const SKETCH_WIDTH: usize = 65_536;

/// Everything the engine knows.
#[derive(Debug)]
pub(crate) struct Core {
    pub cfg: Arc<Config>,
    hasher: RandomState,
    pub sources: BoundedTable<IpAddr, SourceState>,
    pub accounts: BoundedTable<String, AccountState>,
    pub sessions: BoundedTable<SessionKey, SessionState>,
    pub tokens: BoundedTable<String, TokenState>,
    sketch: CountMinSketch,
    pub auth: AuthGlobal,
    pub flood: FloodGlobal,
    model: AnomalyModel,
    deployment_hour: (i64, f64),
    pub alerts: AlertBook,
    pub detector_counts: [u64; Detector::ALL.len()],
    pub processed: u64,
    last_prune_ms: i64,
    pub now_ms: i64,
}

impl Core {
    pub fn new(cfg: Config, alerts: AlertBook) -> Self {
        Self {
            sources: BoundedTable::new(cfg.max_sources),
            accounts: BoundedTable::new(cfg.max_accounts),
            sessions: BoundedTable::new(cfg.max_sessions),
            tokens: BoundedTable::new(cfg.max_tokens),
            sketch: CountMinSketch::new(SKETCH_WIDTH, ms(cfg.auth_window)),
            hasher: RandomState::new(),
            auth: AuthGlobal::default(),
            flood: FloodGlobal::default(),
            model: AnomalyModel::new(),
            deployment_hour: (i64::MIN, 0.0),
            alerts,
            detector_counts: [0; Detector::ALL.len()],
            processed: 0,
            last_prune_ms: i64::MIN,
            now_ms: 0,
            cfg: Arc::new(cfg),
        }
    }

    fn hash(&self, x: impl Hash) -> u64 {
        self.hasher.hash_one(x)
    }

    fn half_life(&self) -> i64 {
        ms(self.cfg.risk_half_life)
    }

    /// Whether a source not yet tracked has been seen often enough (by the sketch) to
    /// get an exact entry. Tracked sources are always "admitted".
    fn admit_source(&mut self, source: IpAddr, now: i64, force: bool) -> bool {
        if self.sources.contains(&source) || force {
            return true;
        }
        self.sketch.increment(&source, now) >= self.cfg.admit_after_events
    }

    fn source_entry(&mut self, source: IpAddr, now: i64) -> &mut SourceState {
        let half_life = self.half_life();
        let s = self
            .sources
            .entry(source, now, || SourceState::new(now, half_life));
        s.common.last_seen_ms = s.common.last_seen_ms.max(now);
        s
    }

    fn account_entry(&mut self, account: &str, now: i64) -> &mut AccountState {
        let half_life = self.half_life();
        let a = self.accounts.entry(account.to_owned(), now, || {
            AccountState::new(now, half_life)
        });
        a.common.last_seen_ms = a.common.last_seen_ms.max(now);
        a
    }

    /// Folds one event in; verdicts change under `verdicts`.
    pub fn apply(&mut self, event: &Event, verdicts: &mut Verdicts) {
        let now = event.at_ms();
        self.now_ms = self.now_ms.max(now);
        self.processed += 1;
        let mut out = Vec::new();
        match event {
            Event::Request(e) => self.on_request(e, verdicts, &mut out),
            Event::Auth(e) => {
                let keys = AuthKeys {
                    source: self.hash(e.source),
                    account: self.hash(&e.account),
                };
                auth::on_global(&self.cfg, &mut self.auth, e, keys, &mut out);
                let alarm = self.auth.alarm(now);
                // Sign-ins are admitted at once: they are few (the expensive-route limit
                // paces password checks) and stuffing must be counted from the first.
                if self.admit_source(e.source, now, true) {
                    let cfg = Arc::clone(&self.cfg);
                    let src = self.source_entry(e.source, now);
                    auth::on_source(&cfg, src, e, keys, alarm, &mut out);
                }
                if e.outcome != AuthOutcome::UnknownAccount {
                    let cfg = Arc::clone(&self.cfg);
                    let acct = self.account_entry(&e.account, now);
                    auth::on_account(&cfg, acct, e, keys, &mut out);
                }
            }
            Event::ResourceRead(e) => self.on_read(e, &mut out),
            Event::Export(e) => self.on_export(e, &mut out),
            Event::SocketMessages(e) => {
                let half_life = self.half_life();
                let s = self
                    .sessions
                    .entry(e.session, now, || SessionState::new(now, half_life));
                s.common.last_seen_ms = now;
                flood::on_socket(&self.cfg, s, e, &mut out);
            }
            Event::SlowRequest(e) => {
                if self.admit_source(e.source, now, false) {
                    let cfg = Arc::clone(&self.cfg);
                    let src = self.source_entry(e.source, now);
                    flood::on_slow(&cfg, src, e, &mut out);
                }
            }
        }
        for finding in out {
            self.respond(finding, now, verdicts);
        }
        if now.saturating_sub(self.last_prune_ms) >= 60_000 {
            self.prune(now, verdicts);
        }
    }

    fn on_request(&mut self, e: &RequestEvent, verdicts: &mut Verdicts, out: &mut Vec<Finding>) {
        let now = e.at_ms;
        let path_hash = self.hash(&e.path);
        if let Some(f) = probe::on_request(e) {
            out.push(f);
        }
        // A request in a session the application vouched for counts for the session.
        let vouched = e.account.is_some()
            || e.session
                .and_then(|key| self.sessions.get(&key))
                .is_some_and(|s| s.account.is_some());
        // A flood is judged on what comes without a vouched session: colleagues at work
        // are not one.
        self.flood.on_request(&self.cfg, now, vouched, out);
        if self.admit_source(e.source, now, !e.probes.is_empty()) {
            let cfg = Arc::clone(&self.cfg);
            let flood_global = &self.flood;
            let half_life = ms(cfg.risk_half_life);
            let src = self
                .sources
                .entry(e.source, now, || SourceState::new(now, half_life));
            src.common.last_seen_ms = src.common.last_seen_ms.max(now);
            if !vouched {
                flood::on_source_request(&cfg, src, e.source, now, flood_global, out);
            }
            bot::on_request(&cfg, src, e, out);
            // A signed-in session's misses are the session's, not the address's.
            if e.account.is_none() {
                enumeration::on_source(&cfg, src, e, path_hash, out);
            }
        }
        let Some(key) = e.session else {
            return;
        };
        let half_life = self.half_life();
        let session = match &e.account {
            // The application vouched for this session: track it.
            Some(account) => {
                let s = self
                    .sessions
                    .entry(key, now, || SessionState::new(now, half_life));
                if s.account.as_deref() != Some(account) {
                    s.account = Some(account.clone());
                }
                verdicts.mark_known_good(key, now);
                if let Some(hold) = verdicts.held_accounts.get(account).cloned() {
                    verdicts.block_session(key, hold);
                }
                Some(s)
            }
            // An unknown cookie value is attacker-chosen: no new entry for it.
            None => self.sessions.get_mut(&key),
        };
        if let Some(s) = session {
            s.common.last_seen_ms = s.common.last_seen_ms.max(now);
            if s.account.is_some() {
                flood::on_session_request(&self.cfg, s, key, now, out);
            }
            enumeration::on_session(&self.cfg, s, e, path_hash, out);
        }
    }

    fn on_read(&mut self, e: &ResourceReadEvent, out: &mut Vec<Finding>) {
        let now = e.at_ms;
        let subject_hash = self.hash(&e.subject);
        self.deployment_read(now, 1.0);
        let cfg = Arc::clone(&self.cfg);
        let model_on = cfg.model_enabled;
        let half_life = self.half_life();
        let acct = self
            .accounts
            .entry(e.account.clone(), now, || AccountState::new(now, half_life));
        acct.common.last_seen_ms = acct.common.last_seen_ms.max(now);
        let transfer = acct
            .transfer
            .get_or_insert_with(|| Box::new(Transfer::new(now)));
        let closed = transfer.roll(now);
        transfer.count(now, Some(subject_hash), 1, e.bytes);
        let run = transfer.walk(&e.subject, cfg.id_walk_max_step);
        let scope = Scope::Account(e.account.clone());
        let by_account = out.len();
        check_transfer(&cfg, &mut acct.common, transfer, &scope, None, now, out);
        check_walk(
            &cfg,
            &mut acct.common,
            run,
            &scope,
            None,
            &e.subject,
            now,
            out,
        );
        let model_finding = if model_on {
            score_model(
                &cfg,
                &self.model,
                &mut acct.common,
                transfer,
                &scope,
                None,
                now,
            )
        } else {
            None
        };
        out.extend(model_finding);
        if let Some(hour) = closed {
            self.model.learn(&hour);
        }
        let Some(token) = &e.token else {
            return;
        };
        let t = self
            .tokens
            .entry(token.clone(), now, || TokenState::new(now, half_life));
        t.common.last_seen_ms = now;
        t.transfer.roll(now);
        t.transfer.count(now, Some(subject_hash), 1, e.bytes);
        let run = t.transfer.walk(&e.subject, cfg.id_walk_max_step);
        // The token's findings raise its account's risk: when the account's own rule
        // already fired on this read, the token's would count the same reads twice.
        let mut by_token = Vec::new();
        let common = &mut t.common;
        check_transfer(
            &cfg,
            common,
            &t.transfer,
            &scope,
            Some(token),
            now,
            &mut by_token,
        );
        check_walk(
            &cfg,
            common,
            run,
            &scope,
            Some(token),
            &e.subject,
            now,
            &mut by_token,
        );
        for f in by_token {
            let seen = out.get(by_account..).unwrap_or_default();
            if !seen.iter().any(|a| a.detector == f.detector) {
                out.push(f);
            }
        }
    }

    fn on_export(&mut self, e: &ExportEvent, out: &mut Vec<Finding>) {
        let now = e.at_ms;
        let cfg = Arc::clone(&self.cfg);
        let reads = u32::try_from(e.subjects).unwrap_or(u32::MAX);
        self.deployment_read(now, f64::from(reads));
        let acct = self.account_entry(&e.account, now);
        let transfer = acct
            .transfer
            .get_or_insert_with(|| Box::new(Transfer::new(now)));
        let closed = transfer.roll(now);
        transfer.count(now, None, reads, e.bytes);
        let scope = Scope::Account(e.account.clone());
        if e.subjects >= cfg.export_subjects
            && acct
                .common
                .fired
                .try_fire(Detector::BulkExport, now, ms(cfg.refire_after))
        {
            out.push(Finding::new(
                Detector::BulkExport,
                Severity::Medium,
                scope.clone(),
                format!("export of {} subjects", e.subjects),
                ev([
                    ("subjects", e.subjects.to_string()),
                    ("bytes", e.bytes.to_string()),
                ]),
            ));
        }
        check_transfer(&cfg, &mut acct.common, transfer, &scope, None, now, out);
        if let Some(hour) = closed {
            self.model.learn(&hour);
        }
    }

    /// Deployment-wide reads per hour, so the model knows the quiet hours.
    fn deployment_read(&mut self, now: i64, reads: f64) {
        let hour = now - now.rem_euclid(3_600_000);
        let (start, count) = self.deployment_hour;
        if hour != start {
            if start != i64::MIN {
                self.model.learn_activity(start, count);
            }
            self.deployment_hour = (hour, 0.0);
        }
        self.deployment_hour.1 += reads;
    }

    /// Raises the finding's scope's risk, updates verdicts (when enforcing) and alerts.
    fn respond(&mut self, finding: Finding, now: i64, verdicts: &mut Verdicts) {
        if let Some(c) = self.detector_counts.get_mut(finding.detector.index()) {
            *c += 1;
        }
        // Watch only: the same risk and alerts, answered by nobody.
        let mut scratch;
        let verdicts = if self.cfg.enforce {
            verdicts
        } else {
            scratch = Verdicts::new(&self.cfg);
            &mut scratch
        };
        let cfg = Arc::clone(&self.cfg);
        let half_life = self.half_life();
        let score = match &finding.scope {
            Scope::Source(ip) => {
                let ip = *ip;
                let src = self
                    .sources
                    .entry(ip, now, || SourceState::new(now, half_life));
                let level = raise(&cfg, &mut src.common, &finding, now);
                match level {
                    Level::Block if !verdicts.is_blocked(ip, now) => {
                        let factor = 1i64 << src.blocks.min(16);
                        let until = now
                            + (ms(cfg.block_for).saturating_mul(factor)).min(ms(cfg.max_block_for));
                        src.blocks = src.blocks.saturating_add(1);
                        verdicts.block_source(
                            ip,
                            Block {
                                until_ms: until,
                                reason: finding.detector.name().to_owned(),
                                manual: false,
                            },
                        );
                    }
                    Level::Throttle => {
                        verdicts.throttle_source(ip, now + ms(cfg.throttle_for));
                        verdicts.mark_risky(ip, now + ms(cfg.throttle_for));
                    }
                    Level::StepUp => verdicts.mark_risky(ip, now + ms(cfg.throttle_for)),
                    _ => {}
                }
                src.common.risk.total_at(now)
            }
            Scope::Session(key) => {
                let key = *key;
                let s = self
                    .sessions
                    .entry(key, now, || SessionState::new(now, half_life));
                match raise(&cfg, &mut s.common, &finding, now) {
                    Level::Block => verdicts.block_session(
                        key,
                        Block {
                            until_ms: now + ms(cfg.max_block_for),
                            reason: finding.detector.name().to_owned(),
                            manual: false,
                        },
                    ),
                    Level::Throttle => verdicts.throttle_session(key, now + ms(cfg.throttle_for)),
                    _ => {}
                }
                s.common.risk.total_at(now)
            }
            Scope::Account(account) => {
                let account = account.clone();
                let a = self
                    .accounts
                    .entry(account.clone(), now, || AccountState::new(now, half_life));
                // Only what the account itself did holds it: failed sign-ins at it are
                // someone else's doing, and holding it would lock its owner out.
                let level = raise(&cfg, &mut a.common, &finding, now);
                if level == Level::Throttle && holds_account(finding.detector) {
                    // Reading too much: every session of the account slows to the
                    // throttle rate until a person looks (or the throttle ends), so an
                    // exfiltration in progress slows at once instead of at the next
                    // finding.
                    let sessions: Vec<SessionKey> = self
                        .sessions
                        .iter()
                        .filter(|(_, s)| s.account.as_deref() == Some(account.as_str()))
                        .map(|(k, _)| *k)
                        .collect();
                    for key in sessions {
                        verdicts.throttle_session(key, now + ms(cfg.throttle_for));
                    }
                }
                if level == Level::Block && holds_account(finding.detector) {
                    // Held until a person releases it (or the longest block passes).
                    verdicts.held_accounts.insert(
                        account.clone(),
                        Block {
                            until_ms: now + ms(cfg.max_block_for),
                            reason: finding.detector.name().to_owned(),
                            manual: false,
                        },
                    );
                    let held: Vec<SessionKey> = self
                        .sessions
                        .iter()
                        .filter(|(_, s)| s.account.as_deref() == Some(account.as_str()))
                        .map(|(k, _)| *k)
                        .collect();
                    for key in held {
                        verdicts.block_session(
                            key,
                            Block {
                                until_ms: now + ms(cfg.max_block_for),
                                reason: "account held for review".to_owned(),
                                manual: false,
                            },
                        );
                    }
                }
                a.common.risk.total_at(now)
            }
            Scope::Global => finding.risk,
        };
        self.alerts.raise(&finding, score, now);
    }

    fn prune(&mut self, now: i64, verdicts: &mut Verdicts) {
        self.last_prune_ms = now;
        let ttl = ms(self.cfg.idle_ttl);
        let idle = |c: &Common| now - c.last_seen_ms > ttl && c.risk.total_at(now) < 1.0;
        self.sources.prune(|s| idle(&s.common));
        self.sessions.prune(|s| idle(&s.common));
        self.tokens.prune(|t| idle(&t.common));
        // Accounts keep their baselines for weeks: only drop those idle for 8 TTLs.
        self.accounts
            .prune(|a| now - a.common.last_seen_ms > 8 * ttl && a.common.risk.total_at(now) < 1.0);
        verdicts.prune(now);
        self.alerts.prune(now);
    }

    /// Estimated bytes held by the engine's state.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.sources.memory_bytes()
            + self.accounts.memory_bytes()
            + self.sessions.memory_bytes()
            + self.tokens.memory_bytes()
            + self.sketch.memory_bytes()
            + self.model.memory_bytes()
            + self.alerts.memory_bytes()
    }
}

/// Adds a finding's risk to an identity; returns the level it now warrants.
/// Detectors whose findings are about what an account did with its own access (reading,
/// exporting, walking ids), and so may hold it for review.
fn holds_account(d: Detector) -> bool {
    matches!(
        d,
        Detector::BulkRead | Detector::IdWalk | Detector::BulkExport
    )
}

fn raise(cfg: &Config, common: &mut Common, finding: &Finding, now: i64) -> Level {
    common.risk.add(now, finding.risk, finding.from_model);
    common.reasons.note(finding.detector, &finding.summary, now);
    Level::for_risk(cfg, common.risk.rule_at(now), common.risk.model_at(now))
}

fn token_evidence(
    mut evidence: Vec<(String, String)>,
    token: Option<&String>,
) -> Vec<(String, String)> {
    if let Some(t) = token {
        evidence.push(("token".to_owned(), t.clone()));
    }
    evidence
}

/// The bulk-read rule for one account or token.
fn check_transfer(
    cfg: &Config,
    common: &mut Common,
    transfer: &Transfer,
    scope: &Scope,
    token: Option<&String>,
    now: i64,
    out: &mut Vec<Finding>,
) {
    let Some(excess) = transfer.excess(cfg, now) else {
        return;
    };
    if !common
        .fired
        .try_fire(Detector::BulkRead, now, ms(cfg.refire_after))
    {
        return;
    }
    let severity = if excess.ratio() >= 3.0 {
        Severity::Critical
    } else {
        Severity::High
    };
    let who = if token.is_some() { "token" } else { "account" };
    out.push(Finding::new(
        Detector::BulkRead,
        severity,
        scope.clone(),
        format!(
            "{who} read {} ({}) against an expected {}",
            num(excess.observed),
            excess.measure,
            excess.expected.map_or("(no history)".to_owned(), num)
        ),
        token_evidence(excess.evidence(), token),
    ));
}

/// The sequential-id rule.
#[allow(clippy::too_many_arguments)]
fn check_walk(
    cfg: &Config,
    common: &mut Common,
    run: u32,
    scope: &Scope,
    token: Option<&String>,
    subject: &str,
    now: i64,
    out: &mut Vec<Finding>,
) {
    if run >= cfg.id_walk_run
        && common
            .fired
            .try_fire(Detector::IdWalk, now, ms(cfg.refire_after))
    {
        out.push(Finding::new(
            Detector::IdWalk,
            Severity::High,
            scope.clone(),
            format!("{run} subjects read in increasing id order"),
            token_evidence(
                ev([
                    ("run", run.to_string()),
                    ("last_subject", subject.to_owned()),
                    ("max_step", cfg.id_walk_max_step.to_string()),
                ]),
                token,
            ),
        ));
    }
}

/// The model's finding for an identity, at most once a minute and once per refire.
fn score_model(
    cfg: &Config,
    model: &AnomalyModel,
    common: &mut Common,
    transfer: &mut Transfer,
    scope: &Scope,
    token: Option<&String>,
    now: i64,
) -> Option<Finding> {
    if now.saturating_sub(transfer.model_scored_ms) < 60_000 {
        return None;
    }
    transfer.model_scored_ms = now;
    let score = model.score(transfer, now, cfg.seasonal_min_observations);
    if score.score < cfg.model_threshold
        || !common
            .fired
            .try_fire(Detector::Model, now, ms(cfg.refire_after))
    {
        return None;
    }
    let top: Vec<String> = score
        .contributions
        .iter()
        .take(3)
        .map(|c| c.feature.clone())
        .collect();
    let mut evidence = vec![("score".to_owned(), format!("{:.1}", score.score))];
    for c in &score.contributions {
        evidence.push((
            c.feature.clone(),
            match c.expected {
                Some(x) => format!(
                    "{} (expected {}, +{:.1})",
                    num(c.value),
                    num(x),
                    c.contribution
                ),
                None => format!("{} (+{:.1})", num(c.value), c.contribution),
            },
        ));
    }
    let mut f = Finding::new(
        Detector::Model,
        Severity::Medium,
        scope.clone(),
        format!(
            "unusual activity (score {:.1}: {})",
            score.score,
            top.join(", ")
        ),
        token_evidence(evidence, token),
    );
    f.from_model = true;
    Some(f)
}

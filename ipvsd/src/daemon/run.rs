//! The run loop: start (timeouts, sync daemon, checkers, first apply),
//! then health events, the reconcile cycle, reloads (SIGHUP, `POST
//! /reload`) and stop (SIGTERM, SIGINT), on a current-thread tokio runtime.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ipvs::{ApplyOptions, DaemonRole, Destinations, Ipvs, ReadOptions, Timeouts};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::check::{HealthEvent, Runner, RunnerOptions};
use crate::cli::Source;
use crate::config::{FlushOnStop, Loaded, Model};
use crate::status::{Counters, ReloadRequest, View, ViewRequest, serve};

use super::drift::{FULL_EVERY, drifted};
use super::engine::{Engine, Notification, ReloadPlan};
use super::mapping::{cycle_period, real_server_spec, specs};
use super::notify::{Notifier, start_fifo_script};
use super::reconcile::{RealServerId, ServerState, plan_options};
use super::switches::Switches;
use super::vrrp::VrrpSide;
use crate::rhi::RouteHealthSide;

type Event = HealthEvent<RealServerId>;

/// Runs the daemon on `loaded` (read from `source`, which a reload reads
/// again) until SIGTERM or SIGINT; logs go to stderr.
///
/// Exit codes: 0 after a clean stop, 1 when it cannot start (no IPVS, the
/// status address taken, a checker that cannot run here).
pub fn run(source: Source, loaded: Loaded) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(daemon(source, loaded.model)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Why a health event happened, for the log: the checker and what it saw.
fn reason(e: &Event) -> String {
    use crate::check::ChangeReason;
    let what = match &e.reason {
        ChangeReason::Success => format!("success in {:?}", e.latency),
        ChangeReason::Weight => format!("dynamic weight {}", e.weight),
        ChangeReason::Reconfigured => "configured weight changed".to_owned(),
        ChangeReason::Failure(f) => f.to_string(),
    };
    match (e.kind, e.checker) {
        (Some(kind), Some(i)) => format!("{kind} #{i}: {what}"),
        _ => what,
    }
}

/// Up to how many table changes of one apply are logged one by one at
/// info level; more (a first fill of thousands) are summed up there and
/// listed at debug level.
const STEPS_LOGGED: usize = 100;

fn log_applied(steps: &[ipvs::Step]) {
    if steps.len() <= STEPS_LOGGED {
        for step in steps {
            tracing::info!("applied: {step}");
        }
        return;
    }
    let mut services = 0;
    let mut real_servers = 0;
    for step in steps {
        tracing::debug!("applied: {step}");
        match step {
            ipvs::Step::AddService(_)
            | ipvs::Step::EditService { .. }
            | ipvs::Step::DeleteService(_) => services += 1,
            _ => real_servers += 1,
        }
    }
    tracing::info!(
        "applied {} table changes: {services} to services, {real_servers} to real servers (each at debug level)",
        steps.len()
    );
}

/// What a reconcile covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cycle {
    /// Every service ipvsd manages, read in full and applied: the cycle
    /// that repairs any drift, every [`FULL_EVERY`] cycles.
    Whole,
    /// The table read in brief, and the services that differ from the
    /// configuration (see [`drifted`]) applied with the changed ones: the
    /// other cycles, several times cheaper on large tables.
    Drift,
    /// The services whose wanted state changed since the last apply
    /// (health events, a reload), read and applied alone: their cost
    /// follows the change, not the size of the table.
    Changes,
}

/// The daemon's I/O around the [`Engine`].
struct Daemon {
    source: Source,
    /// IPVS, absent when the kernel has none and the configuration is
    /// VRRP alone.
    ipvs: Option<Arc<Ipvs>>,
    engine: Engine,
    vrrp: VrrpSide,
    runner: Runner<RealServerId>,
    notifier: Notifier,
    counters: Counters,
    started: u64,
    /// The reconcile cycle of the running model ([`cycle_period`]).
    period: std::time::Duration,
    /// Whether ipvsd set the IPVS timeouts (then they are put back on stop).
    timeouts_set: bool,
    /// The `sloppy_*` sysctls ipvsd set, with their earlier values.
    switches: Switches,
    /// Route health injection, when `[route_health]` is configured.
    rhi: Option<RouteHealthSide>,
    /// Whether the last reconcile with the kernel succeeded (the director's
    /// own health, for route health injection).
    director_ok: bool,
}

async fn daemon(source: Source, model: Model) -> Result<(), String> {
    // First of all, so that a signal during a long start-up is taken when
    // the first apply is done, not by the default action (death).
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let ipvs = open_ipvs(&model)?;
    let global = model.global.clone();
    // What can fail without touching the kernel comes first.
    for vs in model.virtual_servers.iter().filter(|v| v.ha_suspend) {
        tracing::warn!(
            "virtual server {}: ha_suspend has no effect yet (checks run)",
            vs.name()
        );
    }
    let notifier = Notifier::new(
        global.lvs_notify_fifo.as_deref(),
        global.script_user.clone(),
    )
    .map_err(|e| format!("lvs_notify_fifo: {e}"))?;
    let listener = tokio::net::TcpListener::bind(global.status_listen)
        .await
        .map_err(|e| format!("status API on {}: {e}", global.status_listen))?;
    // The timeouts to put back on stop.
    let saved_timeouts = ipvs.as_ref().and_then(|i| i.timeouts().ok());
    if let Some(ipvs) = &ipvs {
        lvs_start(ipvs, &global)?;
    }
    let follows = global
        .lvs_sync_daemon
        .as_ref()
        .and_then(|s| s.vrrp_instance.as_deref())
        .is_some_and(|name| model.vrrp.instances.iter().any(|i| i.name == name));
    let mut timeouts_set = false;
    let mut sync_started = Vec::new();
    let mut switches = Switches::default();
    if let Some(ipvs) = &ipvs {
        switches.apply(&global);
        timeouts_set = set_timeouts(ipvs, global.lvs_timeouts.as_ref());
        if !follows {
            sync_started = start_both_sync_roles(ipvs, global.lvs_sync_daemon.as_ref());
        }
    }
    // VRRP cannot start (an interface missing, no permission): what was
    // set above is put back before the error is returned.
    let vrrp = match VrrpSide::start(&model, ipvs.as_ref()).await {
        Ok(vrrp) => vrrp,
        Err(e) => {
            if let Some(ipvs) = &ipvs {
                put_back(ipvs, saved_timeouts.filter(|_| timeouts_set), &sync_started);
            }
            switches.put_back();
            return Err(e);
        }
    };
    // Stale routes of a crashed run go before anything is announced.
    let rhi = match &model.route_health {
        Some(config) => match RouteHealthSide::start(config).await {
            Ok(side) => Some(side),
            Err(e) => {
                if let Some(ipvs) = &ipvs {
                    put_back(ipvs, saved_timeouts.filter(|_| timeouts_set), &sync_started);
                }
                switches.put_back();
                return Err(e.to_string());
            }
        },
        None => None,
    };
    if let (Some(script), Some(fifo)) = (&global.lvs_notify_fifo_script, &global.lvs_notify_fifo) {
        start_fifo_script(script, fifo);
    }
    tracing::info!(
        "status API on http://{}/status and /metrics",
        global.status_listen
    );

    let (events_tx, mut events) = mpsc::channel::<Event>(4096);
    let mut runner = Runner::new(RunnerOptions::default(), events_tx);
    let mut states = HashMap::new();
    for spec in specs(&model).map_err(|e| e.to_string())? {
        let id = spec.id.clone();
        runner.add(spec).map_err(|e| e.to_string())?;
        if let Some(s) = runner.status(&id) {
            states.insert(
                id,
                ServerState {
                    health: s.health,
                    weight: s.weight,
                },
            );
        }
    }
    let (engine, start_notes) = Engine::new(model, states);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let period = cycle_period(&engine.model);
    let mut d = Daemon {
        source,
        ipvs: ipvs.clone(),
        engine,
        vrrp,
        runner,
        notifier,
        counters: Counters::default(),
        started,
        period,
        timeouts_set,
        switches,
        rhi,
        director_ok: true,
    };
    for n in &start_notes {
        d.notifier.notify(n);
    }
    d.reconcile(Cycle::Whole).await;
    d.route_health(true).await;

    let cancel = CancellationToken::new();
    let (reload_tx, mut reload_rx) = mpsc::channel::<ReloadRequest>(8);
    let (view_tx, mut view_rx) = mpsc::channel::<ViewRequest>(16);
    let server = tokio::spawn(serve(
        listener,
        view_tx,
        ipvs.clone(),
        reload_tx,
        cancel.clone(),
    ));
    let mut period = d.period;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!("reconcile cycle every {period:?}");
    let mut ticks: u64 = 0;
    loop {
        let wake = d.rhi.as_ref().and_then(RouteHealthSide::next_deadline);
        let mut repair = false;
        tokio::select! {
            Some(event) = events.recv() => {
                d.on_event(event);
                // Take every event already queued, then apply once.
                while let Ok(event) = events.try_recv() {
                    d.on_event(event);
                }
                d.reconcile(Cycle::Changes).await;
            }
            _ = tick.tick() => {
                ticks += 1;
                let cycle = if ticks.is_multiple_of(FULL_EVERY) { Cycle::Whole } else { Cycle::Drift };
                d.reconcile(cycle).await;
                repair = true;
            }
            _ = sleep_until(wake) => {}
            Some(t) = d.vrrp.next() => {
                d.vrrp.on_transition(&t, d.ipvs.as_ref());
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading");
                let _ = d.reload().await;
            }
            Some(req) = view_rx.recv() => {
                let _ = req.reply.send(Arc::new(d.view()));
            }
            Some(req) = reload_rx.recv() => {
                tracing::info!("reload asked through the status API");
                let _ = req.reply.send(d.reload().await);
            }
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: stopping"); break; }
        }
        // Health, quorum, the director's state or the configuration may
        // have changed, or a hold-down ended.
        d.route_health(repair).await;
        let p = d.period;
        if p != period {
            period = p;
            tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
    }
    cancel.cancel();
    let _ = server.await;
    d.stop(saved_timeouts, &sync_started).await;
    Ok(())
}

/// Opens IPVS: required when the configuration has virtual servers or LVS
/// settings; otherwise (VRRP alone, which keepalived runs on a kernel
/// without IPVS too) tried, and its absence is no error.
fn open_ipvs(model: &Model) -> Result<Option<Arc<Ipvs>>, String> {
    let g = &model.global;
    let needed = !model.virtual_servers.is_empty()
        || g.lvs_sync_daemon.is_some()
        || g.lvs_flush
        || g.lvs_timeouts.is_some();
    match Ipvs::new() {
        Ok(ipvs) => Ok(Some(Arc::new(ipvs))),
        Err(e) if needed => Err(format!("IPVS: {e}")),
        Err(e) => {
            tracing::info!("IPVS not available ({e}): running VRRP alone");
            Ok(None)
        }
    }
}

/// `lvs_flush`: empties the table at start.
fn lvs_start(ipvs: &Ipvs, global: &crate::config::Global) -> Result<(), String> {
    if global.lvs_flush {
        ipvs.flush().map_err(|e| format!("lvs_flush: {e}"))?;
        tracing::info!("lvs_flush: IPVS table emptied");
    }
    Ok(())
}

/// `lvs_timeouts` (0 leaves the kernel's value, ipvsadm --set semantics);
/// whether they were set.
fn set_timeouts(ipvs: &Ipvs, timeouts: Option<&Timeouts>) -> bool {
    let Some(t) = timeouts else {
        return false;
    };
    match ipvs.set_timeouts(t) {
        Ok(()) => {
            tracing::info!(
                "lvs_timeouts set: tcp {} tcpfin {} udp {}",
                t.tcp,
                t.tcp_fin,
                t.udp
            );
            true
        }
        Err(e) => {
            tracing::warn!("lvs_timeouts: {e}");
            false
        }
    }
}

/// `lvs_sync_daemon` without a VRRP instance to follow: both roles run,
/// as keepalived does without `inst`; the roles started.
fn start_both_sync_roles(
    ipvs: &Ipvs,
    sync: Option<&crate::config::SyncDaemonConfig>,
) -> Vec<DaemonRole> {
    let mut started = Vec::new();
    let Some(s) = sync else {
        return started;
    };
    for role in [DaemonRole::Master, DaemonRole::Backup] {
        match ipvs.start_daemon(&s.daemon(role)) {
            Ok(()) => {
                tracing::info!("lvs_sync_daemon {role:?} started on {}", s.interface);
                started.push(role);
            }
            Err(e) => tracing::warn!("lvs_sync_daemon {role:?}: {e}"),
        }
    }
    started
}

impl Daemon {
    fn on_event(&mut self, e: Event) {
        let reason = reason(&e);
        let state = ServerState {
            health: e.health,
            weight: e.weight,
        };
        if e.previous.map(|p| p.0) != Some(e.health) {
            self.counters.health_changes += 1;
        }
        for n in self.engine.on_health(&e.server, state, &reason) {
            self.notifier.notify(&n);
        }
        if e.previous.is_some_and(|p| p.0 == e.health) && e.previous.map(|p| p.1) != Some(e.weight)
        {
            tracing::info!(
                "real server {}:{} of {} weight {}: {reason}",
                e.server.address,
                e.server.port,
                e.server.virtual_server,
                e.weight
            );
        }
    }

    /// Ends drains that are over, applies the diff of `cycle`'s services.
    async fn reconcile(&mut self, cycle: Cycle) {
        let Some(ipvs) = self.ipvs.clone() else {
            // VRRP alone: no table to keep.
            return;
        };
        let started = Instant::now();
        self.counters.reconciles += 1;
        // The apply reads the services it covers itself; a read of our own
        // only when a drain or a retired service needs the connections, and
        // of those services only.
        if self.engine.needs_table() {
            let ipvs = ipvs.clone();
            let keys = self.engine.prune_keys();
            let read = move || ipvs.read_services(&keys);
            let table = match tokio::task::spawn_blocking(read).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => return self.failed(format!("reading the table: {e}")),
                Err(e) => return self.failed(e.to_string()),
            };
            for line in self.engine.prune(&table, Instant::now()) {
                tracing::info!("{line}");
            }
        }
        let cycle = match cycle {
            Cycle::Drift => self.find_drift(ipvs.clone()).await,
            other => other,
        };
        let (desired, scope) = match cycle {
            Cycle::Whole => {
                self.engine.dirty.clear();
                (self.engine.desired(), self.engine.managed())
            }
            Cycle::Drift | Cycle::Changes => {
                let keys = self.engine.take_dirty();
                if keys.is_empty() {
                    return;
                }
                (self.engine.desired_of(&keys), keys)
            }
        };
        let covered = scope.clone();
        let (services, planned) = (scope.len(), started.elapsed());
        let options = ApplyOptions::default()
            .with_diff(plan_options(scope))
            .with_lock_timeout(Some(std::time::Duration::from_secs(5)));
        let report = tokio::task::spawn_blocking(move || ipvs.apply(&desired, &options)).await;
        if !matches!(&report, Ok(Ok(r)) if r.is_success()) {
            // Tried again with the next apply (the next cycle at the latest).
            self.engine.dirty.extend(covered);
        }
        match report {
            Ok(Ok(r)) if r.is_success() => {
                tracing::debug!(
                    "reconcile ({cycle:?}) of {services} services: {} steps, desired in {planned:?}, all in {:?}",
                    r.applied.len(),
                    started.elapsed()
                );
                log_applied(&r.applied);
                self.director_ok = true;
                self.counters.steps_applied += r.applied.len() as u64;
            }
            Ok(Ok(r)) => {
                let why = r
                    .failed
                    .iter()
                    .map(|(s, e)| format!("{s}: {e}"))
                    .chain(r.stopped.iter().map(ToString::to_string))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.failed(format!("apply: {why}"));
            }
            Ok(Err(e)) => self.failed(format!("apply: {e}")),
            Err(e) => self.failed(e.to_string()),
        }
    }

    /// Reads the table in brief and marks the services that differ from
    /// the configuration; gives the cycle to run: [`Cycle::Drift`], or
    /// [`Cycle::Whole`] when the brief read failed (`/proc/net/ip_vs`
    /// unreadable, say), so that drift is still repaired.
    async fn find_drift(&mut self, ipvs: Arc<Ipvs>) -> Cycle {
        let read = move || {
            let brief = ReadOptions::new().destinations(Destinations::Brief);
            ipvs.read_table(brief)?.collect::<ipvs::Result<Vec<_>>>()
        };
        let table = match tokio::task::spawn_blocking(read).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                tracing::debug!("brief read of the table: {e}; reading in full");
                return Cycle::Whole;
            }
            Err(e) => {
                tracing::debug!("brief read of the table: {e}; reading in full");
                return Cycle::Whole;
            }
        };
        let drifted = drifted(&table, &self.engine.desired(), &self.engine.managed());
        if !drifted.is_empty() {
            tracing::info!(
                "{} services differ from the configuration (changed outside ipvsd): repairing",
                drifted.len()
            );
        }
        self.engine.dirty.extend(drifted);
        Cycle::Drift
    }

    fn failed(&mut self, why: String) {
        self.director_ok = false;
        tracing::error!("reconcile: {why}");
        self.counters.reconcile_errors += 1;
        self.counters.last_reconcile_error = Some(why);
    }

    /// Route health injection after a change: the addresses' verdicts
    /// taken, hold-downs applied, the routing table made to follow
    /// (`repair`: synced even when nothing changed).
    async fn route_health(&mut self, repair: bool) {
        let Some(side) = self.rhi.as_mut() else {
            return;
        };
        let Some(config) = &self.engine.model.route_health else {
            return;
        };
        let verdicts = crate::rhi::verdicts(
            config,
            &self.engine.model,
            &self.engine.quorum,
            self.director_ok,
        );
        side.update(Instant::now(), Some(&verdicts), repair).await;
    }

    /// The daemon's state for the status API, built when it asks.
    fn view(&self) -> View {
        View {
            model: self.engine.model.clone(),
            config_path: self
                .source
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            states: self.engine.states.clone(),
            checkers: self.runner.statuses().into_iter().collect(),
            quorum: self.engine.quorum.clone(),
            counters: self.counters.clone(),
            started: self.started,
            vrrp: self.vrrp.statuses(),
            announcements: self
                .rhi
                .as_ref()
                .map(|r| r.statuses(Instant::now()))
                .unwrap_or_default(),
            route_withdrawals: self.rhi.as_ref().map_or(0, RouteHealthSide::withdrawals),
        }
    }

    /// Reads the configuration again; a bad one is logged and counted and
    /// the running one stays.
    async fn reload(&mut self) -> Result<(), String> {
        let result = match self.source.load() {
            Some(Ok(loaded)) => self.switch(loaded.model).await,
            Some(Err(e)) => Err(e.to_string()),
            None => Err("no configuration file".to_owned()),
        };
        match &result {
            Ok(()) => {
                self.counters.reloads += 1;
                tracing::info!("reloaded");
            }
            Err(e) => {
                self.counters.reload_errors += 1;
                self.counters.last_reload_error = Some(e.clone());
                tracing::error!("reload refused, the running configuration stays: {e}");
            }
        }
        result
    }

    async fn switch(&mut self, new: Model) -> Result<(), String> {
        if self.ipvs.is_none() && !new.virtual_servers.is_empty() {
            return Err("virtual servers need IPVS, which this kernel does not have".to_owned());
        }
        let plan = ReloadPlan::between(&self.engine.model, &new);
        // Every new checker must be runnable before anything changes (those
        // of the unchanged virtual servers run already).
        let mut new_specs = HashMap::new();
        let changed = new
            .virtual_servers
            .iter()
            .filter(|vs| plan.changed.contains(&vs.name()));
        for vs in changed {
            for rs in &vs.real_servers {
                let spec = real_server_spec(vs, rs, &new.global).map_err(|e| e.to_string())?;
                new_specs.insert(spec.id.clone(), spec);
            }
        }
        for id in &plan.remove {
            self.runner.remove(id);
        }
        for (id, w) in &plan.reweight {
            self.runner.set_weight(id, *w);
        }
        let mut added = HashMap::new();
        for id in plan.add.iter().chain(&plan.restart) {
            let Some(spec) = new_specs.remove(id) else {
                continue;
            };
            self.runner.remove(id);
            self.runner.add(spec).map_err(|e| e.to_string())?;
            // A restarted real server keeps its state until its new
            // checkers report.
            if plan.add.contains(id)
                && let Some(s) = self.runner.status(id)
            {
                added.insert(
                    id.clone(),
                    ServerState {
                        health: s.health,
                        weight: s.weight,
                    },
                );
            }
        }
        tracing::info!(
            "reload: {} real servers added, {} removed, {} with new checkers, {} with a new weight",
            plan.add.len(),
            plan.remove.len(),
            plan.restart.len(),
            plan.reweight.len()
        );
        let old = &self.engine.model.global;
        if new.global.lvs_timeouts != old.lvs_timeouts
            && let Some(t) = &new.global.lvs_timeouts
            && let Some(ipvs) = &self.ipvs
        {
            self.timeouts_set |= set_timeouts(ipvs, Some(t));
        }
        if self.ipvs.is_some() {
            self.switches.apply(&new.global);
        }
        let old = &self.engine.model.global;
        for (what, changed) in [
            (
                "status_listen",
                new.global.status_listen != old.status_listen,
            ),
            (
                "lvs_sync_daemon",
                new.global.lvs_sync_daemon != old.lvs_sync_daemon,
            ),
            (
                "lvs_notify_fifo",
                new.global.lvs_notify_fifo != old.lvs_notify_fifo,
            ),
            ("VRRP configuration", &new.vrrp != self.vrrp.config()),
        ] {
            if changed {
                tracing::warn!("reload: the new {what} takes effect at the next start");
            }
        }
        match (&mut self.rhi, &new.route_health) {
            (Some(side), Some(config)) => side.reconfigure(config).await,
            (Some(side), None) => {
                side.stop().await;
                self.rhi = None;
            }
            (None, Some(config)) => match RouteHealthSide::start(config).await {
                Ok(side) => self.rhi = Some(side),
                Err(e) => tracing::error!("reload: route health not started: {e}"),
            },
            (None, None) => {}
        }
        let notes = self.engine.reload(new, &plan, added, Instant::now());
        self.period = cycle_period(&self.engine.model);
        for n in &notes {
            self.notifier.notify(n);
        }
        self.reconcile(Cycle::Changes).await;
        Ok(())
    }

    /// Stops as keepalived does: checkers stopped; the configured services
    /// removed (`lvs_flush_on_stop`: the whole table, or the configured
    /// services whole; by default only the real servers ipvsd put in, and
    /// each service once empty); with `omega` the down notifiers run; the
    /// timeouts put back; the sync daemons it started stopped.
    async fn stop(mut self, saved: Option<Timeouts>, sync_started: &[DaemonRole]) {
        // Routes first: the routers stop sending traffic here before the
        // table empties.
        if let Some(side) = self.rhi.as_mut() {
            side.stop().await;
        }
        // VRRP next: a master's priority 0 lets the backup take over at once.
        self.vrrp.stop(self.ipvs.as_ref()).await;
        self.runner.stop().await;
        let mut notes: Vec<Notification> = Vec::new();
        for vs in &self.engine.model.virtual_servers {
            if !vs.omega {
                continue;
            }
            for rs in &vs.real_servers {
                let id = RealServerId::of(vs, rs);
                if self
                    .engine
                    .states
                    .get(&id)
                    .is_some_and(|s| s.health == crate::check::Health::Up)
                {
                    notes.push(Notification {
                        message: format!(
                            "real server {} of {} DOWN: shutting down",
                            rs.socket(),
                            vs.name()
                        ),
                        script: rs.notify_down.clone(),
                        fifo_line: format!(
                            "RS {} {} DOWN\n",
                            super::engine::fifo_rs(vs, rs),
                            super::engine::fifo_vs(vs)
                        ),
                    });
                }
            }
            notes.push(Notification {
                message: format!("virtual server {} quorum down: shutting down", vs.name()),
                script: vs.quorum_down.clone(),
                fifo_line: format!("VS {} DOWN\n", super::engine::fifo_vs(vs)),
            });
        }
        for n in &notes {
            self.notifier.notify(n);
        }
        let Some(ipvs) = &self.ipvs else {
            tracing::info!("stopped");
            return;
        };
        match self.engine.model.global.lvs_flush_on_stop {
            FlushOnStop::All => match ipvs.flush() {
                Ok(()) => tracing::info!("lvs_flush_on_stop: IPVS table emptied"),
                Err(e) => tracing::error!("lvs_flush_on_stop: {e}"),
            },
            FlushOnStop::VirtualServers => {
                for key in self.engine.managed() {
                    match ipvs.delete_service(&key) {
                        Ok(()) => tracing::info!("removed service {key}"),
                        Err(e) if e.kind() == ipvs::ErrorKind::NoSuchService => {}
                        Err(e) => tracing::error!("removing service {key}: {e}"),
                    }
                }
            }
            FlushOnStop::None => {
                let ours = self.engine.desired();
                for spec in &ours.services {
                    let key = spec.service.key;
                    for dest in &spec.destinations {
                        if let Err(e) = ipvs.delete_destination(&key, dest.address, dest.port)
                            && e.kind() != ipvs::ErrorKind::NoSuchDestination
                            && e.kind() != ipvs::ErrorKind::NoSuchService
                        {
                            tracing::error!("removing real server from {key}: {e}");
                        }
                    }
                    match ipvs.destinations(&key) {
                        Ok(left) if left.is_empty() => match ipvs.delete_service(&key) {
                            Ok(()) => tracing::info!("removed service {key}"),
                            Err(e) => tracing::error!("removing service {key}: {e}"),
                        },
                        Ok(left) => tracing::info!(
                            "service {key} kept: {} real servers ipvsd did not add",
                            left.len()
                        ),
                        Err(e) if e.kind() == ipvs::ErrorKind::NoSuchService => {}
                        Err(e) => tracing::error!("reading service {key}: {e}"),
                    }
                }
            }
        }
        put_back(ipvs, saved.filter(|_| self.timeouts_set), sync_started);
        self.switches.put_back();
        tracing::info!("stopped");
    }
}

/// What start set beside the table, undone (on stop, or when start fails
/// after it): the timeouts as they were before `lvs_timeouts` (when it was
/// set) and the sync daemons started.
fn put_back(ipvs: &Ipvs, timeouts: Option<Timeouts>, sync_started: &[DaemonRole]) {
    if let Some(t) = timeouts {
        match ipvs.set_timeouts(&t) {
            Ok(()) => tracing::info!(
                "timeouts put back: tcp {} tcpfin {} udp {}",
                t.tcp,
                t.tcp_fin,
                t.udp
            ),
            Err(e) => tracing::error!("putting the timeouts back: {e}"),
        }
    }
    for role in sync_started {
        if let Err(e) = ipvs.stop_daemon(*role) {
            tracing::error!("stopping the sync daemon {role:?}: {e}");
        }
    }
}

/// Sleeps until `at`, or for ever when there is no deadline.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

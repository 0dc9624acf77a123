//! The rules a type alone cannot express, each naming the key it is about.

use std::net::IpAddr;

use super::{Config, ConfigError, MailTransport, SmtpSecurity, is_loopback, parse_origin};

fn bad(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        reason: reason.into(),
    }
}

impl Config {
    /// Checks every rule that a type alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(bad("data_dir", "must not be empty"));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => {
                return Err(bad("tls_key", "tls_cert is set, so tls_key is needed too"));
            }
            (None, Some(_)) => {
                return Err(bad("tls_cert", "tls_key is set, so tls_cert is needed too"));
            }
            _ => {}
        }
        if self.tls_self_signed && self.tls_cert.is_some() {
            return Err(bad(
                "tls_self_signed",
                "choose either a certificate (tls_cert/tls_key) or a self-signed one, not both",
            ));
        }
        if !is_loopback(self.listen.ip()) && !self.tls_enabled() && self.behind_proxy.is_empty() {
            return Err(bad(
                "listen",
                format!(
                    "{} is not a loopback address, so TLS is required: set tls_cert and tls_key, \
                     use --tls-self-signed, or name the trusted reverse proxy with --behind-proxy",
                    self.listen
                ),
            ));
        }
        let ip = self.listen.ip();
        if self.public_url.is_none() && !is_loopback(ip) && !ip.is_unspecified() {
            return Err(bad(
                "public_url",
                format!(
                    "listening on {ip}: set the address people type (e.g. https://telehealth.example.org); \
                     passkeys need a domain name, not an IP address"
                ),
            ));
        }
        if !self.behind_proxy.is_empty() && self.public_url.is_none() {
            return Err(bad(
                "public_url",
                "behind a reverse proxy, set the address people type (e.g. https://telehealth.example.org)",
            ));
        }
        if self.redirect_listen.is_some() && !self.tls_enabled() {
            return Err(bad(
                "redirect_listen",
                "redirecting to HTTPS needs TLS to be configured",
            ));
        }
        if let Some(url) = &self.public_url {
            parse_origin(url).map_err(|reason| bad("public_url", reason))?;
        }
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("postgres://")
                || u.starts_with("postgresql://")
                || u.starts_with("sqlite:"))
            {
                return Err(bad(
                    "database_url",
                    "expected postgres://USER@HOST/DATABASE (or sqlite://PATH); leave unset for the built-in SQLite",
                ));
            }
        }
        if let Some(key) = &self.master_key
            && store::keyring::Keyring::parse(key.expose()).is_none()
        {
            return Err(bad(
                "master_key",
                "must be 64 hexadecimal characters (32 bytes)",
            ));
        }
        if self.setup_link_minutes == 0 || self.setup_link_minutes > 7 * 24 * 60 {
            return Err(bad(
                "setup_link_minutes",
                "must be between 1 and 10080 (one week)",
            ));
        }
        let l = &self.limits;
        for (key, v) in [
            (
                "limits.header_read_timeout_secs",
                l.header_read_timeout_secs,
            ),
            ("limits.body_read_timeout_secs", l.body_read_timeout_secs),
            ("limits.request_timeout_secs", l.request_timeout_secs),
            (
                "limits.tls_handshake_timeout_secs",
                l.tls_handshake_timeout_secs,
            ),
        ] {
            if v == 0 || v > 3600 {
                return Err(bad(key, "must be between 1 and 3600 seconds"));
            }
        }
        if l.max_body_bytes < 1024 || l.max_body_bytes > 256 * 1024 * 1024 {
            return Err(bad(
                "limits.max_body_bytes",
                "must be between 1024 and 268435456 bytes",
            ));
        }
        if l.max_connections == 0 {
            return Err(bad("limits.max_connections", "must be at least 1"));
        }
        let attachment = self.messaging.max_attachment_bytes;
        if !(1024..=100 * 1024 * 1024).contains(&attachment) {
            return Err(bad(
                "messaging.max_attachment_bytes",
                "must be between 1024 and 104857600 bytes",
            ));
        }
        let conversation = self.messaging.max_conversation_bytes;
        if !(1024..=1024 * 1024 * 1024 * 1024).contains(&conversation) {
            return Err(bad(
                "messaging.max_conversation_bytes",
                "must be between 1024 and 1099511627776 bytes",
            ));
        }
        let per_day = self.messaging.max_new_conversations_per_day;
        if !(1..=10_000).contains(&per_day) {
            return Err(bad(
                "messaging.max_new_conversations_per_day",
                "must be between 1 and 10000",
            ));
        }
        let sessions = &self.sessions;
        for (key, v, max) in [
            (
                "sessions.staff_idle_minutes",
                sessions.staff_idle_minutes,
                24 * 60,
            ),
            (
                "sessions.patient_idle_minutes",
                sessions.patient_idle_minutes,
                24 * 60,
            ),
            ("sessions.absolute_hours", sessions.absolute_hours, 24 * 30),
            ("sessions.step_up_seconds", sessions.step_up_seconds, 3600),
            ("sessions.invitation_days", sessions.invitation_days, 90),
        ] {
            if v == 0 || v > max {
                return Err(bad(key, format!("must be between 1 and {max}")));
            }
        }
        if self.mail.transport == MailTransport::Smtp {
            let Some(host) = self.mail.smtp_host.as_deref().filter(|h| !h.is_empty()) else {
                return Err(bad(
                    "mail.smtp_host",
                    "mail.transport is smtp, so an SMTP host is needed",
                ));
            };
            let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(is_loopback);
            if self.mail.smtp_security == SmtpSecurity::None && !loopback {
                return Err(bad(
                    "mail.smtp_security",
                    "unencrypted SMTP is allowed only to a relay on this machine (localhost)",
                ));
            }
        }
        if !self.mail.from.contains('@') {
            return Err(bad(
                "mail.from",
                "must be an e-mail address, e.g. Clinic <telehealth@clinic.example>",
            ));
        }
        if !(1..=168).contains(&self.assurance.check_every_hours) {
            return Err(bad(
                "assurance.check_every_hours",
                "must be between 1 and 168 hours",
            ));
        }
        if !(1..=24).contains(&self.assurance.review_months) {
            return Err(bad(
                "assurance.review_months",
                "must be between 1 and 24 months",
            ));
        }
        let turn = &self.turn;
        if turn.ttl_secs == 0 || turn.ttl_secs > 600 {
            return Err(bad("turn.ttl_secs", "must be between 1 and 600 seconds"));
        }
        if !turn.urls.is_empty() && turn.secret.is_none() {
            return Err(bad(
                "turn.secret",
                "turn.urls is set, so coturn's static-auth-secret is needed too",
            ));
        }
        if let Some(url) = turn.urls.iter().find(|u| {
            !(u.starts_with("turn:") || u.starts_with("turns:") || u.starts_with("stun:"))
        }) {
            return Err(bad(
                "turn.urls",
                format!("`{url}` is not a turn:, turns: or stun: URL"),
            ));
        }
        if turn.relay_only && turn.urls.is_empty() {
            return Err(bad("turn.relay_only", "relay-only calls need turn.urls"));
        }
        if let Some(url) = &self.sentinel.webhook_url {
            let url = url.expose();
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(bad(
                    "sentinel.webhook_url",
                    "must be an http:// or https:// URL",
                ));
            }
        }
        if self.sentinel.max_in_flight < 8 {
            return Err(bad("sentinel.max_in_flight", "must be at least 8"));
        }
        if self.sentinel.requests_per_minute < 60 {
            return Err(bad("sentinel.requests_per_minute", "must be at least 60"));
        }
        if self.ledger.checkpoint_every == 0 {
            return Err(bad("ledger.checkpoint_every", "must be at least 1"));
        }
        if self.ledger.checkpoint_interval_secs == 0 {
            return Err(bad("ledger.checkpoint_interval_secs", "must be at least 1"));
        }
        if self.ledger.batch_max == 0 || self.ledger.batch_max > 10_000 {
            return Err(bad("ledger.batch_max", "must be between 1 and 10000"));
        }
        Ok(())
    }
}

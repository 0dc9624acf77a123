//! Configuration layering: defaults → file → `TW_…` environment → flags.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use server::{Config, Secret};

use crate::cli::{CommonArgs, FlagOverrides};

/// The environment variable naming the configuration file.
const CONFIG_ENV: &str = "TW_CONFIG";
/// A file holding the database URL, so the secret need not sit in the environment.
const DATABASE_URL_FILE_ENV: &str = "TW_DATABASE_URL_FILE";
const DEFAULT_FILE: &str = "telewarden.toml";

/// Loads and validates the configuration.
pub fn load(common: &CommonArgs, flags: &FlagOverrides) -> anyhow::Result<Config> {
    let config = layered(common, flags)?;
    config.validate()?;
    Ok(config)
}

/// Loads the configuration without the cross-key validation (for `config check`, which
/// reports validation itself).
pub fn layered(common: &CommonArgs, flags: &FlagOverrides) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = config_file(common)? {
        figment = figment.merge(Toml::file_exact(&path));
    }
    let known = top_level_keys();
    // `split` has already turned `__` into `.`, so the first segment is the top-level key.
    figment = figment.merge(Env::prefixed("TW_").split("__").filter(move |key| {
        let key = key.as_str().to_ascii_lowercase();
        let top = key.split('.').next().unwrap_or_default();
        known.iter().any(|k| k == top)
    }));
    figment = figment.merge(Serialized::globals(flags));
    let mut config: Config = figment.extract().map_err(describe)?;
    if let Ok(path) = std::env::var(DATABASE_URL_FILE_ENV) {
        let url = std::fs::read_to_string(&path).with_context(|| {
            format!("configuration key `database_url`: cannot read {DATABASE_URL_FILE_ENV}={path}")
        })?;
        config.database_url = Some(Secret::new(url.trim()));
    }
    Ok(config)
}

fn config_file(common: &CommonArgs) -> anyhow::Result<Option<PathBuf>> {
    let explicit = common
        .config
        .clone()
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
    match explicit {
        Some(path) if !path.exists() => {
            bail!("configuration file {} does not exist", path.display())
        }
        Some(path) => Ok(Some(path)),
        None if Path::new(DEFAULT_FILE).exists() => Ok(Some(PathBuf::from(DEFAULT_FILE))),
        None => Ok(None),
    }
}

/// The configuration's top-level keys: only `TW_` variables naming one are read, so
/// unrelated variables (e.g. `TW_TEST_POSTGRES_URL`) are not mistaken for settings.
fn top_level_keys() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Figment's errors, one line each, naming the key and where its value came from.
fn describe(errors: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::from("(top level)")
            } else {
                e.path.join(".")
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    _ if m.name.contains("environment") => {
                        format!(
                            " (from environment variable TW_{})",
                            key.to_ascii_uppercase().replace('.', "__")
                        )
                    }
                    Some(src) => format!(" (from {} {src})", m.name),
                    None => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            format!("configuration key `{key}`: {}{source}", e.kind)
        })
        .collect();
    anyhow::anyhow!(lines.join("\n"))
}

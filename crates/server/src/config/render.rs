//! Renders the configuration as TOML for display, via serde_json's value model.

use serde_json::Value;

use super::Config;

pub fn render(config: &Config) -> String {
    let Ok(Value::Object(map)) = serde_json::to_value(config) else {
        return String::from("# (configuration could not be rendered)\n");
    };
    let mut top = String::new();
    let mut tables = String::new();
    for (k, v) in &map {
        match v {
            Value::Object(inner) => {
                tables.push_str(&format!("\n[{k}]\n"));
                for (ik, iv) in inner {
                    tables.push_str(&format!("{ik} = {}\n", scalar(iv)));
                }
            }
            Value::Null => top.push_str(&format!("# {k} = (not set)\n")),
            other => top.push_str(&format!("{k} = {}\n", scalar(other))),
        }
    }
    top + &tables
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(scalar).collect();
            format!("[{}]", inner.join(", "))
        }
        other => other.to_string(),
    }
}

//! Request forms: typed field definitions an admin writes, and the server-side check
//! of a customer's answers against them, field by field.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{email, error::FieldErrors};

pub const MAX_FIELDS: usize = 50;
pub const MAX_OPTIONS: usize = 50;
const TYPES: &str = "text, long_text, number, date, single_choice, multi_choice, email, checkbox";

/// One field of a form, as stored (validated) and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The answer's key: lower case letters, digits and `_`, starting with a letter.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,39}$")]
    pub key: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub label: String,
    /// text, long_text, number, date, single_choice, multi_choice, email or checkbox.
    #[serde(rename = "type")]
    #[schema(pattern = "^(text|long_text|number|date|single_choice|multi_choice|email|checkbox)$")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub help: String,
    /// The choices of single_choice and multi_choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub options: Vec<String>,
    /// Bounds of a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Longest text or long_text answer (200 and 5000 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000)]
    pub max_length: Option<u32>,
}

fn is_choice(kind: &str) -> bool {
    matches!(kind, "single_choice" | "multi_choice")
}

fn default_max_length(kind: &str) -> u32 {
    if kind == "long_text" { 5000 } else { 200 }
}

/// Checks a form definition; every problem is reported under `fields[i].<property>`.
pub fn validate_definition(fields: &[Field], f: &mut FieldErrors) {
    if fields.is_empty() || fields.len() > MAX_FIELDS {
        f.add("fields", format!("must have 1 to {MAX_FIELDS} fields"));
    }
    let mut keys = BTreeSet::new();
    for (i, field) in fields.iter().enumerate() {
        let at = |p: &str| format!("fields[{i}].{p}");
        let key_ok = field.key.len() <= 40
            && field.key.starts_with(|c: char| c.is_ascii_lowercase())
            && field.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            f.add(&at("key"), "must be 1 to 40 lower-case letters, digits or _, starting with a letter");
        } else if !keys.insert(field.key.as_str()) {
            f.add(&at("key"), format!("{:?} is used by another field", field.key));
        }
        crate::text::line(f, &at("label"), &field.label, 200);
        crate::text::prose(f, &at("help"), &field.help, 500, false);
        let kind = field.kind.as_str();
        if !TYPES.split(", ").any(|t| t == kind) {
            f.add(&at("type"), format!("must be one of: {TYPES}"));
            continue;
        }
        if is_choice(kind) {
            let mut seen = BTreeSet::new();
            if field.options.is_empty() || field.options.len() > MAX_OPTIONS {
                f.add(&at("options"), format!("a choice needs 1 to {MAX_OPTIONS} options"));
            }
            for o in &field.options {
                let n = o.trim().chars().count();
                if n == 0 || n > 100 {
                    f.add(&at("options"), "each option must be 1 to 100 characters");
                } else if !seen.insert(o.trim()) {
                    f.add(&at("options"), format!("{:?} is listed twice", o.trim()));
                }
            }
        } else if !field.options.is_empty() {
            f.add(&at("options"), "only single_choice and multi_choice fields have options");
        }
        if kind == "number" {
            for (p, v) in [("min", field.min), ("max", field.max)] {
                if v.is_some_and(|v| !v.is_finite()) {
                    f.add(&at(p), "must be a finite number");
                }
            }
            if let (Some(lo), Some(hi)) = (field.min, field.max)
                && lo > hi
            {
                f.add(&at("max"), "must not be below min");
            }
        } else if field.min.is_some() || field.max.is_some() {
            f.add(&at("min"), "only number fields have bounds");
        }
        match (kind, field.max_length) {
            ("text" | "long_text", Some(n)) if n == 0 || n > 100_000 => {
                f.add(&at("max_length"), "must be 1 to 100000");
            }
            ("text" | "long_text", _) | (_, None) => {}
            (_, Some(_)) => f.add(&at("max_length"), "only text and long_text fields have a maximum length"),
        }
    }
}

/// Checks `answers` against `fields`; returns them normalised (trimmed texts, only
/// known keys, absent optional answers left out). Problems are reported under
/// `answers.<key>`.
pub fn validate_answers(fields: &[Field], answers: &Map<String, Value>, f: &mut FieldErrors) -> Map<String, Value> {
    let mut out = Map::new();
    for key in answers.keys() {
        if !fields.iter().any(|field| &field.key == key) {
            f.add(&format!("answers.{key}"), "is not a field of this form");
        }
    }
    for field in fields {
        let at = format!("answers.{}", field.key);
        let value = answers.get(&field.key).filter(|v| !v.is_null());
        let blank = match value {
            None => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Bool(b)) => field.kind == "checkbox" && !b && field.required,
            _ => false,
        };
        if blank {
            if field.required {
                f.add(&at, if field.kind == "checkbox" { "must be ticked" } else { "is required" });
            }
            continue;
        }
        let Some(value) = value else { continue };
        match check(field, value) {
            Ok(v) => {
                out.insert(field.key.clone(), v);
            }
            Err(why) => f.add(&at, why),
        }
    }
    out
}

fn check(field: &Field, value: &Value) -> Result<Value, String> {
    let text = || value.as_str().map(str::trim).ok_or_else(|| "must be text".to_string());
    match field.kind.as_str() {
        "text" | "long_text" => {
            let s = text()?;
            let max = field.max_length.unwrap_or_else(|| default_max_length(&field.kind)) as usize;
            if s.chars().count() > max {
                return Err(format!("must be at most {max} characters"));
            }
            let newlines_ok = field.kind == "long_text";
            if s.chars().any(|c| c.is_control() && !(newlines_ok && (c == '\n' || c == '\t' || c == '\r'))) {
                return Err("must not contain control characters".into());
            }
            Ok(Value::String(s.to_owned()))
        }
        "number" => {
            let n = value.as_f64().filter(|n| n.is_finite()).ok_or("must be a number")?;
            match (field.min, field.max) {
                (Some(lo), _) if n < lo => Err(format!("must be at least {lo}")),
                (_, Some(hi)) if n > hi => Err(format!("must be at most {hi}")),
                _ => Ok(value.clone()),
            }
        }
        "date" => {
            let s = text()?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Value::String(d.to_string()))
                .map_err(|_| "must be a date as YYYY-MM-DD".into())
        }
        "single_choice" => {
            let s = text()?;
            if field.options.iter().any(|o| o.trim() == s) {
                Ok(Value::String(s.to_owned()))
            } else {
                Err(format!("must be one of: {}", field.options.join(", ")))
            }
        }
        "multi_choice" => {
            let items = value.as_array().ok_or("must be a list of choices")?;
            let mut picked = Vec::new();
            for item in items {
                let s = item.as_str().map(str::trim).ok_or("must be a list of choices")?;
                if !field.options.iter().any(|o| o.trim() == s) {
                    return Err(format!("{s:?} is not one of: {}", field.options.join(", ")));
                }
                if picked.contains(&s) {
                    return Err(format!("{s:?} is chosen twice"));
                }
                picked.push(s);
            }
            Ok(Value::Array(picked.into_iter().map(|s| Value::String(s.to_owned())).collect()))
        }
        "email" => {
            let s = text()?;
            if email::is_valid(s) { Ok(Value::String(s.to_owned())) } else { Err("must be an email address".into()) }
        }
        "checkbox" => value.as_bool().map(Value::Bool).ok_or_else(|| "must be true or false".into()),
        other => Err(format!("has an unknown type {other}")),
    }
}

/// The answers as text for the ticket's description, in the form's order.
pub fn render(fields: &[Field], answers: &Map<String, Value>) -> String {
    let mut out = String::new();
    for field in fields {
        let Some(v) = answers.get(&field.key) else { continue };
        let shown = match v {
            Value::String(s) => s.clone(),
            Value::Bool(true) => "yes".into(),
            Value::Bool(false) => "no".into(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        };
        out.push_str(&format!("{}: {shown}\n", field.label.trim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(key: &str, kind: &str) -> Field {
        Field {
            key: key.into(),
            label: key.into(),
            kind: kind.into(),
            required: true,
            help: String::new(),
            options: if is_choice(kind) { vec!["a".into(), "b".into()] } else { vec![] },
            min: None,
            max: None,
            max_length: None,
        }
    }

    #[test]
    fn a_bad_definition_gets_a_message_per_property() {
        let mut bad = vec![field("Bad Key", "text"), field("dup", "number"), field("dup", "colour")];
        bad[1].min = Some(10.0);
        bad[1].max = Some(1.0);
        bad.push(Field { options: vec![], ..field("pick", "single_choice") });
        bad.push(Field { options: vec!["x".into()], max_length: Some(5), ..field("num", "number") });
        let mut f = FieldErrors::default();
        validate_definition(&bad, &mut f);
        for key in [
            "fields[0].key",
            "fields[1].max",
            "fields[2].key",
            "fields[2].type",
            "fields[3].options",
            "fields[4].options",
            "fields[4].max_length",
        ] {
            assert!(f.0.contains_key(key), "no message for {key}: {f}");
        }
        let mut ok = FieldErrors::default();
        validate_definition(&[field("laptop_model", "single_choice"), field("needed_by", "date")], &mut ok);
        assert!(ok.is_empty(), "{ok}");
    }

    #[test]
    fn every_field_type_accepts_good_answers_and_refuses_bad_ones() {
        let mut number = field("ram_gb", "number");
        number.min = Some(8.0);
        number.max = Some(64.0);
        let fields = vec![
            field("name", "text"),
            field("why", "long_text"),
            number,
            field("needed_by", "date"),
            field("model", "single_choice"),
            field("extras", "multi_choice"),
            field("manager", "email"),
            field("agree", "checkbox"),
        ];
        let good = json!({
            "name": "  Ann  ", "why": "line one\nline two", "ram_gb": 16, "needed_by": "2026-12-01",
            "model": "a", "extras": ["a", "b"], "manager": "boss@example.com", "agree": true,
        });
        let mut f = FieldErrors::default();
        let out = validate_answers(&fields, good.as_object().unwrap(), &mut f);
        assert!(f.is_empty(), "{f}");
        assert_eq!(out["name"], "Ann");
        let bad = json!({
            "name": 5, "why": "x".repeat(5001), "ram_gb": 128, "needed_by": "2026-02-30",
            "model": "z", "extras": ["a", "a"], "manager": "not-an-email", "agree": false, "colour": "red",
        });
        let mut f = FieldErrors::default();
        validate_answers(&fields, bad.as_object().unwrap(), &mut f);
        for key in ["name", "why", "ram_gb", "needed_by", "model", "extras", "manager", "agree", "colour"] {
            assert!(f.0.contains_key(&format!("answers.{key}")), "no message for {key}: {f}");
        }
        let mut f = FieldErrors::default();
        validate_answers(&fields, json!({}).as_object().unwrap(), &mut f);
        assert_eq!(f.0.len(), fields.len(), "every required field is reported missing: {f}");
    }
}

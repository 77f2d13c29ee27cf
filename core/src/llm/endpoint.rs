//! An organisation's language-model endpoint, as an admin configures it in the AI
//! settings (`ai.llm`). One row of `llm_endpoints`; no row, no model: nothing leaves
//! the machine.
//!
//! The API key is sealed with the secret key file (`ATUM_SECRET_KEY_FILE`), bound to
//! the organisation, and never read back: the settings say only whether one is set.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::{
    auth::Principal,
    error::{Code, Error, FieldErrors, Result},
    ids::OrgId,
    secret_key::{Sealed, SecretKey},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Provider {
    /// Ollama's `POST {base_url}/api/chat`.
    Ollama,
    /// Any OpenAI-compatible `POST {base_url}/v1/chat/completions` (vLLM, llama.cpp's
    /// server, LM Studio, a hosted service).
    Openai,
}

impl Provider {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "ollama" => Some(Provider::Ollama),
            "openai" => Some(Provider::Openai),
            _ => None,
        }
    }
}

/// What the model may be used for; each is off until an admin names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Feature {
    /// Draft replies are reworded from their quotes; every sentence must still be
    /// backed by a source it cites, else the quoted draft is kept.
    Reply,
    /// The copilot's plan is asked of the model (an invalid one falls back to the
    /// rules), and its answer is worded by it; a sentence its citations do not back
    /// refuses the whole answer.
    Copilot,
}

impl Feature {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "reply" => Some(Feature::Reply),
            "copilot" => Some(Feature::Copilot),
            _ => None,
        }
    }
}

/// A second is the least a model answers in; five minutes is past any draft's use.
pub const TIMEOUT_MS: std::ops::RangeInclusive<u32> = 1_000..=300_000;
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;
pub const MAX_RETRIES: u32 = 5;
pub const DEFAULT_RETRIES: u32 = 1;

/// The endpoint as the code that calls it needs it, the key opened.
#[derive(Clone)]
pub struct Endpoint {
    pub org_id: OrgId,
    pub provider: Provider,
    pub base_url: String,
    pub model: String,
    /// `Err`: a key is stored but this process cannot open it (no secret key file, or
    /// another one); the call is not made.
    pub api_key: std::result::Result<Option<String>, &'static str>,
    /// For each attempt.
    pub timeout: Duration,
    pub retries: u32,
    pub features: Vec<Feature>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("org_id", &self.org_id)
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|k| k.as_ref().map(|_| "<redacted>")))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("features", &self.features)
            .finish()
    }
}

impl Endpoint {
    pub fn serves(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    /// The URL a chat request is posted to.
    pub fn url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        match self.provider {
            Provider::Ollama => format!("{base}/api/chat"),
            // A base that already ends in /v1 (as OpenAI's own documentation writes it) is not doubled.
            Provider::Openai if base.ends_with("/v1") => format!("{base}/chat/completions"),
            Provider::Openai => format!("{base}/v1/chat/completions"),
        }
    }
}

/// The endpoint as admins see it in the settings: the key is never shown.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub provider: Provider,
    pub base_url: String,
    pub model: String,
    /// An API key is stored (sent as `Authorization: Bearer …`).
    pub api_key_set: bool,
    pub timeout_ms: u32,
    pub retries: u32,
    pub features: Vec<Feature>,
}

/// Replaces the endpoint; `api_key` absent keeps the stored key, `null` removes it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChange {
    pub provider: Provider,
    /// The server's root, e.g. `http://127.0.0.1:11434`.
    #[schema(max_length = 500)]
    pub base_url: String,
    #[schema(min_length = 1, max_length = 200)]
    pub model: String,
    #[serde(default, deserialize_with = "crate::change::present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub api_key: Option<Option<String>>,
    /// Each attempt's limit (1,000 to 300,000; 30,000 when absent).
    #[serde(default)]
    #[schema(minimum = 1000, maximum = 300000)]
    pub timeout_ms: Option<u32>,
    /// Attempts after the first when the server is unreachable, late or answers 429
    /// or 5xx (0 to 5; 1 when absent).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 5)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub features: Vec<Feature>,
}

fn context(org_id: OrgId) -> Vec<u8> {
    format!("atum-llm:org:{}", org_id.0).into_bytes()
}

/// The organisation's endpoint as admins see it, or `None`.
pub async fn view(db: &impl GenericClient, org_id: OrgId) -> Result<Option<EndpointView>> {
    let row = db
        .query_opt(
            "SELECT provider, base_url, model, api_key_ciphertext IS NOT NULL AS api_key_set, timeout_ms, retries, features
               FROM llm_endpoints WHERE org_id = $1",
            &[&org_id],
        )
        .await?;
    Ok(row.map(|r| EndpointView {
        provider: Provider::parse(r.get("provider")).unwrap_or(Provider::Ollama),
        base_url: r.get("base_url"),
        model: r.get("model"),
        api_key_set: r.get("api_key_set"),
        timeout_ms: r.get::<_, i32>("timeout_ms").max(0) as u32,
        retries: r.get::<_, i16>("retries").max(0) as u32,
        features: r.get::<_, Vec<String>>("features").iter().filter_map(|f| Feature::parse(f)).collect(),
    }))
}

/// The organisation's endpoint with its key opened, for the code that calls it.
pub async fn load(db: &impl GenericClient, key: Option<&SecretKey>, org_id: OrgId) -> Result<Option<Endpoint>> {
    let row = db
        .query_opt(
            "SELECT provider, base_url, model, api_key_ciphertext, api_key_nonce, timeout_ms, retries, features
               FROM llm_endpoints WHERE org_id = $1",
            &[&org_id],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let sealed = match (r.get::<_, Option<Vec<u8>>>(3), r.get::<_, Option<Vec<u8>>>(4)) {
        (Some(ciphertext), Some(nonce)) => Some(Sealed { ciphertext, nonce: nonce.try_into().unwrap_or([0; 12]) }),
        _ => None,
    };
    let api_key = match (sealed, key) {
        (None, _) => Ok(None),
        (Some(_), None) => Err("an API key is stored but ATUM_SECRET_KEY_FILE is not set for this service"),
        (Some(s), Some(k)) => match k.open(&s, &context(org_id)).and_then(|p| String::from_utf8(p).ok()) {
            Some(plain) => Ok(Some(plain)),
            None => Err("the stored API key does not open with this service's ATUM_SECRET_KEY_FILE"),
        },
    };
    Ok(Some(Endpoint {
        org_id,
        provider: Provider::parse(r.get("provider")).unwrap_or(Provider::Ollama),
        base_url: r.get("base_url"),
        model: r.get("model"),
        api_key,
        timeout: Duration::from_millis(r.get::<_, i32>("timeout_ms").max(0) as u64),
        retries: r.get::<_, i16>("retries").max(0) as u32,
        features: r.get::<_, Vec<String>>("features").iter().filter_map(|f| Feature::parse(f)).collect(),
    }))
}

/// Each field of a change on its own terms (`field` prefixes the names: `ai.llm`).
pub fn check(f: &mut FieldErrors, field: &str, c: &EndpointChange) {
    let name = |n: &str| format!("{field}.{n}");
    match url::Url::parse(c.base_url.trim()) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => f.add(&name("base_url"), "must be an http or https URL"),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => f.add(&name("base_url"), "must name a host"),
        // Credentials in a URL end up in logs; the key has its own field.
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            f.add(&name("base_url"), "must not hold credentials: use api_key")
        }
        Ok(u) if u.query().is_some() || u.fragment().is_some() => {
            f.add(&name("base_url"), "must be the server's root, without a query or fragment")
        }
        Ok(_) if c.base_url.len() > 500 => f.add(&name("base_url"), "must be at most 500 characters"),
        Ok(_) => {}
        Err(e) => f.add(&name("base_url"), format!("is not a URL: {e}")),
    }
    let model = c.model.trim();
    if model.is_empty() || model.chars().count() > 200 || model.chars().any(char::is_control) {
        f.add(&name("model"), "must be 1 to 200 characters, without control characters");
    }
    if let Some(Some(k)) = &c.api_key
        && (k.trim().is_empty() || k.len() > 500 || k.chars().any(|ch| ch.is_control()))
    {
        f.add(&name("api_key"), "must be 1 to 500 characters, without control characters (null removes it)");
    }
    if let Some(t) = c.timeout_ms
        && !TIMEOUT_MS.contains(&t)
    {
        f.add(&name("timeout_ms"), "must be from 1000 to 300000");
    }
    if c.retries.is_some_and(|r| r > MAX_RETRIES) {
        f.add(&name("retries"), format!("must be from 0 to {MAX_RETRIES}"));
    }
}

/// Writes the organisation's endpoint (`None` removes it). A new API key needs the
/// secret key file; a change that keeps the key leaves it sealed as it was.
pub async fn save(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    who: &Principal,
    change: Option<&EndpointChange>,
) -> Result<()> {
    let Some(c) = change else {
        db.execute("DELETE FROM llm_endpoints WHERE org_id = $1", &[&who.org_id]).await?;
        return Ok(());
    };
    let sealed = match &c.api_key {
        Some(Some(plain)) => {
            let key = key.ok_or(Error::Conflict {
                code: Code::SecretKeyNotConfigured,
                message:
                    "an API key is stored sealed, which needs ATUM_SECRET_KEY_FILE on the server; ask your operator"
                        .into(),
            })?;
            Some(Some(key.seal(plain.trim().as_bytes(), &context(who.org_id))))
        }
        Some(None) => Some(None),
        None => None,
    };
    let features: Vec<&'static str> = {
        let mut v: Vec<&'static str> = c.features.iter().map(|f| f.into()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let provider: &'static str = c.provider.into();
    let timeout = c.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) as i32;
    let retries = c.retries.unwrap_or(DEFAULT_RETRIES) as i16;
    let (replace_key, ciphertext, nonce) = match sealed {
        Some(Some(s)) => (true, Some(s.ciphertext), Some(s.nonce.to_vec())),
        Some(None) => (true, None, None),
        None => (false, None, None),
    };
    db.execute(
        "INSERT INTO llm_endpoints (org_id, provider, base_url, model, api_key_ciphertext, api_key_nonce,
                                    timeout_ms, retries, features, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (org_id) DO UPDATE SET
             provider = excluded.provider, base_url = excluded.base_url, model = excluded.model,
             api_key_ciphertext = CASE WHEN $11 THEN excluded.api_key_ciphertext ELSE llm_endpoints.api_key_ciphertext END,
             api_key_nonce = CASE WHEN $11 THEN excluded.api_key_nonce ELSE llm_endpoints.api_key_nonce END,
             timeout_ms = excluded.timeout_ms, retries = excluded.retries, features = excluded.features,
             updated_by = excluded.updated_by, updated_at = now()",
        &[
            &who.org_id,
            &provider,
            &c.base_url.trim(),
            &c.model.trim(),
            &ciphertext,
            &nonce,
            &timeout,
            &retries,
            &features,
            &who.user_id,
            &replace_key,
        ],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(json: &str) -> EndpointChange {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_endpoint_is_checked_field_by_field() {
        let mut f = FieldErrors::default();
        check(
            &mut f,
            "ai.llm",
            &change(r#"{"provider": "ollama", "base_url": "http://127.0.0.1:11434", "model": "llama3.2"}"#),
        );
        assert!(f.is_empty(), "{f}");
        let bad = change(
            r#"{"provider": "openai", "base_url": "https://user:pw@llm.example/", "model": " ", "api_key": "",
                "timeout_ms": 10, "retries": 9}"#,
        );
        check(&mut f, "ai.llm", &bad);
        let fields: Vec<&str> = f.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["ai.llm.api_key", "ai.llm.base_url", "ai.llm.model", "ai.llm.retries", "ai.llm.timeout_ms"]
        );
        for url in ["ftp://llm.example", "http://llm.example/?x=1", "not a url"] {
            let mut f = FieldErrors::default();
            check(
                &mut f,
                "ai.llm",
                &change(&format!(r#"{{"provider": "ollama", "base_url": "{url}", "model": "m"}}"#)),
            );
            assert!(f.0.contains_key("ai.llm.base_url"), "{url}");
        }
    }

    #[test]
    fn each_provider_is_posted_at_its_own_path() {
        let mut e = Endpoint {
            org_id: OrgId(1),
            provider: Provider::Ollama,
            base_url: "http://127.0.0.1:11434/".into(),
            model: "m".into(),
            api_key: Ok(Some("sk-secret".into())),
            timeout: Duration::from_secs(1),
            retries: 0,
            features: vec![],
        };
        assert_eq!(e.url(), "http://127.0.0.1:11434/api/chat");
        e.provider = Provider::Openai;
        assert_eq!(e.url(), "http://127.0.0.1:11434/v1/chat/completions");
        e.base_url = "https://api.example/v1".into();
        assert_eq!(e.url(), "https://api.example/v1/chat/completions");
        assert!(!format!("{e:?}").contains("sk-secret"), "the key is never printed");
    }
}

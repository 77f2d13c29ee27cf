//! The JSON body extractors every route uses instead of actix's `web::Json`.
//!
//! They refuse what `web::Json` lets through: serde fills a struct from a JSON array
//! (`["agent"]` would become `{"role": "agent"}`), so a body must be a JSON object,
//! and a malformed body on a route whose body is optional is refused, not ignored.
//! Errors: 415 `unsupported_media_type` for another Content-Type, 413
//! `payload_too_large` past [`MAX_JSON_BYTES`](crate::MAX_JSON_BYTES), 400
//! `invalid_json` for anything that is not an object of the expected shape.

use std::ops::{Deref, DerefMut};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    dev::Payload,
    error::PayloadError,
    http::{StatusCode, header},
    web::Bytes,
};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    MAX_JSON_BYTES,
    error::{ApiError, Code},
};

/// A required JSON object body.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// An optional JSON object body: `None` when the request has no body at all (or the
/// body is `null`).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            if is_blank(&bytes) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidJson,
                    "this route needs a JSON object body",
                ));
            }
            parse(&bytes).map(Json)
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_empty =
            req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v.to_str().is_ok_and(|v| v.trim() == "0"));
        let no_body = declared_empty || (req.headers().get(header::CONTENT_TYPE).is_none() && !has_body(req));
        if no_body {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let body = read(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            // No body, or the JSON `null`, is the absent body the document allows.
            if is_blank(&bytes) || bytes.trim_ascii() == b"null" {
                return Ok(OptionalJson(None));
            }
            parse(&bytes).map(|v| OptionalJson(Some(v)))
        })
    }
}

/// Whether the request announces a body (a length or chunked transfer).
fn has_body(req: &HttpRequest) -> bool {
    req.headers().contains_key(header::CONTENT_LENGTH) || req.headers().contains_key(header::TRANSFER_ENCODING)
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Checks the Content-Type, then reads the body up to the limit.
fn read(req: &HttpRequest, payload: &mut Payload) -> LocalBoxFuture<'static, Result<Bytes, ApiError>> {
    let json_type = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.essence_str() == "application/json" || m.suffix().is_some_and(|s| s.as_str() == "json"));
    if !json_type {
        return Box::pin(async {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::UnsupportedMediaType,
                "send the body as Content-Type: application/json",
            ))
        });
    }
    let mut payload = payload.take();
    Box::pin(async move {
        use futures_util::StreamExt;
        let mut body = actix_web::web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| match e {
                PayloadError::Overflow => too_large(),
                other => ApiError::new(StatusCode::BAD_REQUEST, Code::InvalidBody, other.to_string()),
            })?;
            if body.len() + chunk.len() > MAX_JSON_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    })
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::PayloadTooLarge,
        format!("the body is larger than {MAX_JSON_BYTES} bytes"),
    )
}

/// An object of type `T`, or 400 `invalid_json`.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let invalid = |message: String| ApiError::new(StatusCode::BAD_REQUEST, Code::InvalidJson, message);
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    if !value.is_object() {
        return Err(invalid("the body must be a JSON object".into()));
    }
    whole_numbers_as_integers(&mut value);
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

/// JSON Schema (and so the OpenAPI document) counts `5.0` as the integer 5; serde
/// would refuse it for an `i64`. Writing such numbers as integers makes the server
/// accept exactly what the document says; a field that wants a float still gets one.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Role {
        role: String,
    }

    #[test]
    fn an_array_is_not_an_object_even_when_serde_could_fill_the_struct_from_it() {
        assert!(serde_json::from_slice::<Role>(br#"["agent"]"#).is_ok(), "the hole this module closes");
        let err = parse::<Role>(br#"["agent"]"#).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (400, Code::InvalidJson));
        assert_eq!(parse::<Role>(b" \n{\"role\": \"agent\"}").unwrap(), Role { role: "agent".into() });
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_that_integer() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Ids {
            id: i64,
            ratio: f64,
            nested: Vec<i64>,
        }
        let ids: Ids = parse(br#"{"id": 270039420457.0, "ratio": 2.0, "nested": [1.0, 2]}"#).unwrap();
        assert_eq!(ids, Ids { id: 270_039_420_457, ratio: 2.0, nested: vec![1, 2] });
        assert_eq!(parse::<Ids>(br#"{"id": 1.5, "ratio": 1, "nested": []}"#).unwrap_err().code, Code::InvalidJson);
    }

    #[test]
    fn scalars_and_garbage_are_refused() {
        for body in [&b"\"agent\""[..], b"42", b"null", b"not json", b"{\"role\": "] {
            assert_eq!(parse::<Role>(body).unwrap_err().code, Code::InvalidJson, "{:?}", String::from_utf8_lossy(body));
        }
    }
}

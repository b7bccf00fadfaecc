//! EC2's `DescribeLaunchTemplateVersions`, the one EC2 call ecsd makes (for `ecsd
//! migrate --asg`), sent over EC2's Query API by hand instead of through aws-sdk-ec2.
//!
//! Why: aws-sdk-ec2 models all of EC2's 700-odd operations, and compiling it took more
//! than 12 of a clean release build's 24 minutes on two cores, for one read of one
//! command. The request is a form-encoded POST signed with SigV4 (aws-sigv4, which the
//! SDK builds anyway); the answer is EC2's XML, read with aws-smithy-xml (also built for
//! the SDK). What the SDK would do is kept:
//!
//! - credentials from the same standard chain ([`AwsConfig`]'s), region and endpoint as
//!   the SDK resolves them: `AWS_ENDPOINT_URL_EC2`, then `AWS_ENDPOINT_URL`, then
//!   `https://ec2.REGION.amazonaws.com` (`.amazonaws.com.cn` in China);
//! - retries of throttles, 5xx and transport failures with exponential backoff (the call
//!   is a read, so every retry is safe), and the call counted in `ecsd_aws_requests_total`
//!   like every other;
//! - AWS's error code and message in [`AwsError`].
//!
//! Not kept: the `--aws-rps` pacing (this is one read of a one-shot command), FIPS and
//! dual-stack endpoints.
//!
//! The XML reading is pure ([`parse_versions`]) and unit-tested; the call itself is tested
//! against the emulator by `ecsd migrate`'s tests.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

use crate::config::{AwsConfig, READ_TIMEOUT};
use crate::error::AwsError;
use crate::https::{HttpsClient, https_client};

const SERVICE: &str = "EC2";
const OPERATION: &str = "DescribeLaunchTemplateVersions";
/// EC2's API version (the only one).
const API_VERSION: &str = "2016-11-15";
/// Attempts, the first included.
const ATTEMPTS: u32 = 5;
/// The most of an answer read: one template version is a few kilobytes.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// What a launch template version sets that `ecsd migrate` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateData {
    pub instance_type: Option<String>,
    pub image_id: Option<String>,
    /// `securityGroupIdSet`.
    pub security_group_ids: Vec<String>,
    /// The `groupSet` of the first network interface.
    pub interface_groups: Vec<String>,
    pub has_user_data: bool,
}

/// Which template and version to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    Id(String),
    Name(String),
}

/// A small EC2 client for `DescribeLaunchTemplateVersions` (see the module's doc).
#[derive(Debug, Clone)]
pub struct Ec2 {
    config: AwsConfig,
}

impl Ec2 {
    pub fn new(config: &AwsConfig) -> Self {
        Ec2 {
            config: config.clone(),
        }
    }

    /// The data of `template` at `version` (`$Default`, `$Latest` or a number), or `None`
    /// when EC2 returns no version.
    pub async fn launch_template_data(
        &self,
        template: &TemplateRef,
        version: &str,
    ) -> Result<Option<TemplateData>, AwsError> {
        let body = request_body(template, version);
        let region = self
            .config
            .region()
            .ok_or_else(|| transport("no AWS region is set (AWS_REGION)".to_owned()))?;
        let endpoint = endpoint(&self.config, &region);
        let client = https_client().map_err(transport)?;
        let mut attempt = 0;
        loop {
            if attempt > 0 {
                // 200 ms doubling, with full jitter, as the SDK's standard mode.
                let ceiling = 200u64 << attempt.min(5);
                tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=ceiling))).await;
            }
            let outcome = self.send(&client, &endpoint, &region, &body).await;
            let (result, label) = match outcome {
                Ok((status, text)) if (200..300).contains(&status) => {
                    (parse_versions(&text).map_err(transport), "success")
                }
                Ok((status, text)) => {
                    let err = service_error(status, &text);
                    let label = if status >= 500 {
                        "server_error"
                    } else {
                        "client_error"
                    };
                    (Err(err), label)
                }
                Err(err) => (Err(err), "network_error"),
            };
            let retry = match &result {
                Ok(_) => false,
                Err(e) => e.is_throttling() || label == "server_error" || label == "network_error",
            };
            attempt += 1;
            if !retry || attempt == ATTEMPTS {
                self.config.stats.record(SERVICE, OPERATION, label);
                return result;
            }
        }
    }

    /// One signed attempt: the status and the answer's text.
    async fn send(
        &self,
        client: &HttpsClient,
        endpoint: &str,
        region: &str,
        body: &str,
    ) -> Result<(u16, String), AwsError> {
        let provider = self
            .config
            .sdk
            .credentials_provider()
            .ok_or_else(|| transport("no AWS credentials are configured".to_owned()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| transport(format!("no AWS credentials: {e}")))?;
        let identity = Identity::from(credentials);
        let uri = format!("{}/", endpoint.trim_end_matches('/'));
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let signing_settings = aws_sigv4::http_request::SigningSettings::default();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(signing_settings)
            .build()
            .map_err(|e| AwsError::invalid(SERVICE, "signing parameters", e))?
            .into();
        let signable = aws_sigv4::http_request::SignableRequest::new(
            "POST",
            &uri,
            [("content-type", content_type)].into_iter(),
            aws_sigv4::http_request::SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| AwsError::invalid(SERVICE, "request", e))?;
        let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
            .map_err(|e| AwsError::invalid(SERVICE, "signature", e))?
            .into_parts();
        let mut builder = http::Request::post(&uri).header("content-type", content_type);
        for (name, value) in instructions.headers() {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| AwsError::invalid(SERVICE, "request", e))?;
        let exchange = async {
            let response = client
                .request(request)
                .await
                .map_err(|e| transport(format!("cannot reach {endpoint}: {e}")))?;
            let status = response.status().as_u16();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| transport(format!("cannot read the answer: {e}")))?
                .to_bytes();
            Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
        };
        tokio::time::timeout(READ_TIMEOUT, exchange)
            .await
            .map_err(|_| transport(format!("no answer within {READ_TIMEOUT:?}")))?
    }
}

fn transport(message: String) -> AwsError {
    AwsError::Transport {
        service: SERVICE,
        operation: OPERATION,
        message,
    }
}

/// Where EC2 is, as the SDK resolves it (without FIPS and dual-stack endpoints).
fn endpoint(config: &AwsConfig, region: &str) -> String {
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL_EC2")
        && !url.is_empty()
    {
        return url;
    }
    if let Some(url) = config.sdk.endpoint_url() {
        return url.to_owned();
    }
    default_endpoint(region)
}

fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ec2.{region}.{suffix}")
}

/// The Query API form: `Action`, `Version`, the template and `LaunchTemplateVersion.1`.
fn request_body(template: &TemplateRef, version: &str) -> String {
    let (key, value) = match template {
        TemplateRef::Id(id) => ("LaunchTemplateId", id),
        TemplateRef::Name(name) => ("LaunchTemplateName", name),
    };
    format!(
        "Action={OPERATION}&Version={API_VERSION}&{key}={}&LaunchTemplateVersion.1={}",
        form_encode(value),
        form_encode(version)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first version's data in a `DescribeLaunchTemplateVersionsResponse`.
pub fn parse_versions(xml: &str) -> Result<Option<TemplateData>, String> {
    let mut doc = Document::new(xml);
    let mut root = doc
        .root_element()
        .map_err(|e| format!("the answer is not XML: {e}"))?;
    while let Some(mut tag) = root.next_tag() {
        if !tag.start_el().matches("launchTemplateVersionSet") {
            continue;
        }
        while let Some(mut item) = tag.next_tag() {
            while let Some(mut field) = item.next_tag() {
                if field.start_el().matches("launchTemplateData") {
                    return template_data(&mut field).map(Some);
                }
            }
        }
    }
    Ok(None)
}

fn template_data(data: &mut ScopedDecoder<'_, '_>) -> Result<TemplateData, String> {
    let mut out = TemplateData::default();
    while let Some(mut field) = data.next_tag() {
        let name = field.start_el().local().to_owned();
        match name.as_str() {
            "instanceType" => out.instance_type = Some(text(&mut field)?),
            "imageId" => out.image_id = Some(text(&mut field)?),
            "userData" => out.has_user_data = !text(&mut field)?.is_empty(),
            "securityGroupIdSet" => {
                while let Some(mut item) = field.next_tag() {
                    out.security_group_ids.push(text(&mut item)?);
                }
            }
            "networkInterfaceSet" => {
                let mut first = true;
                while let Some(mut interface) = field.next_tag() {
                    while let Some(mut part) = interface.next_tag() {
                        if first && part.start_el().matches("groupSet") {
                            while let Some(mut group) = part.next_tag() {
                                out.interface_groups.push(text(&mut group)?);
                            }
                        }
                    }
                    first = false;
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn text(tag: &mut ScopedDecoder<'_, '_>) -> Result<String, String> {
    try_data(tag)
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("unreadable XML: {e}"))
}

/// EC2's error answer: `<Response><Errors><Error><Code>…</Code><Message>…`.
fn service_error(status: u16, xml: &str) -> AwsError {
    let (code, message) = error_of(xml).unwrap_or_else(|| {
        (
            format!("HTTP{status}"),
            xml.chars().take(200).collect::<String>(),
        )
    });
    AwsError::Service {
        service: SERVICE,
        operation: OPERATION,
        code,
        message,
    }
}

fn error_of(xml: &str) -> Option<(String, String)> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().ok()?;
    while let Some(mut errors) = root.next_tag() {
        if !errors.start_el().matches("Errors") {
            continue;
        }
        while let Some(mut error) = errors.next_tag() {
            let (mut code, mut message) = (None, String::new());
            while let Some(mut field) = error.next_tag() {
                let name = field.start_el().local().to_owned();
                match name.as_str() {
                    "Code" => code = text(&mut field).ok(),
                    "Message" => message = text(&mut field).unwrap_or_default(),
                    _ => {}
                }
            }
            if let Some(code) = code {
                return Some((code, message));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>65cadec1-b364-4354-8ca8-4176dexample</requestId>
  <launchTemplateVersionSet>
    <item>
      <createTime>2017-10-31T11:38:52.000Z</createTime>
      <defaultVersion>true</defaultVersion>
      <launchTemplateData>
        <imageId>ami-8c1be5f6</imageId>
        <instanceType>t2.micro</instanceType>
        <networkInterfaceSet>
          <item>
            <deviceIndex>0</deviceIndex>
            <groupSet><groupId>sg-7c227019</groupId><groupId>sg-1a2b3c4d</groupId></groupSet>
            <subnetId>subnet-7b16de0c</subnetId>
          </item>
          <item>
            <groupSet><groupId>sg-ignored</groupId></groupSet>
          </item>
        </networkInterfaceSet>
        <userData>IyEvYmluL2Jhc2gK</userData>
      </launchTemplateData>
      <launchTemplateId>lt-0a20c965061f64abc</launchTemplateId>
      <versionNumber>1</versionNumber>
    </item>
  </launchTemplateVersionSet>
</DescribeLaunchTemplateVersionsResponse>"#;

    #[test]
    fn the_first_versions_data_is_read_from_ec2s_xml() {
        let data = parse_versions(ANSWER).expect("parses").expect("a version");
        assert_eq!(data.instance_type.as_deref(), Some("t2.micro"));
        assert_eq!(data.image_id.as_deref(), Some("ami-8c1be5f6"));
        assert_eq!(data.interface_groups, ["sg-7c227019", "sg-1a2b3c4d"]);
        assert!(data.security_group_ids.is_empty());
        assert!(data.has_user_data);
    }

    #[test]
    fn security_group_ids_and_an_empty_answer() {
        let xml = "<R><launchTemplateVersionSet><item><launchTemplateData>\
                   <securityGroupIdSet><item>sg-1</item><item>sg-2</item></securityGroupIdSet>\
                   </launchTemplateData></item></launchTemplateVersionSet></R>";
        let data = parse_versions(xml).expect("parses").expect("a version");
        assert_eq!(data.security_group_ids, ["sg-1", "sg-2"]);
        assert_eq!(data.instance_type, None);
        assert!(!data.has_user_data);
        let none = "<R><launchTemplateVersionSet/></R>";
        assert_eq!(parse_versions(none), Ok(None));
        assert!(parse_versions("not xml at all").is_err());
    }

    #[test]
    fn an_error_answer_gives_awss_code_and_message() {
        let xml = "<Response><Errors><Error><Code>InvalidLaunchTemplateName.NotFoundException</Code>\
                   <Message>The specified launch template, with template name web, does not exist.</Message>\
                   </Error></Errors><RequestID>x</RequestID></Response>";
        let err = service_error(400, xml);
        assert_eq!(
            err.code(),
            Some("InvalidLaunchTemplateName.NotFoundException")
        );
        assert!(err.to_string().contains("template name web"), "{err}");
        let throttled = service_error(
            503,
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>",
        );
        assert!(throttled.is_throttling());
        assert_eq!(service_error(502, "<html>").code(), Some("HTTP502"));
    }

    #[test]
    fn the_request_is_ec2s_query_form_and_the_endpoint_its_regional_one() {
        assert_eq!(
            request_body(&TemplateRef::Name("web app".into()), "$Latest"),
            "Action=DescribeLaunchTemplateVersions&Version=2016-11-15\
             &LaunchTemplateName=web%20app&LaunchTemplateVersion.1=%24Latest"
        );
        assert_eq!(
            request_body(&TemplateRef::Id("lt-0abc".into()), "3"),
            "Action=DescribeLaunchTemplateVersions&Version=2016-11-15\
             &LaunchTemplateId=lt-0abc&LaunchTemplateVersion.1=3"
        );
        assert_eq!(
            default_endpoint("eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
    }
}

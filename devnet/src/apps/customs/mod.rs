//! The customs app: declarations (`CUSTOMS_DECLARATION` events) and their
//! lifecycle (DCSA SHIPMENT events with `documentTypeCode` CUS whose
//! `documentID` is the declaration number), kept on every ledger.
//!
//! A declaration recorded at one port reaches a linked port over the relay
//! on the `customs` channel; its release (CUS RELS) on the `cargo` channel
//! (two channels, so either may arrive first: CUS events for a declaration
//! not known yet wait for it). The linked port honours a declaration once
//! it holds both from the declaring ledger: each declared container is
//! then "released on the strength of declaration N at port P". A
//! declaration presented there a second time is refused (an `error` ack)
//! and warned.
//!
//! At a linked port, cargo events for declared containers (EQUIPMENT GTIN,
//! DISC, LOAD; recorded there or relayed to it) are checked against the
//! declaration by the named rules of `checks.rs`; every pass and failure is
//! a [`CrossCheck`] record, every failure a [`Warning`]. A CUS HOLD,
//! sensitive cargo (the port's `rules.rs`) and a reused declaration are
//! warnings too. Warnings are ledger state: numbered in execution order,
//! so a restart's replay numbers them again the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use adapters::events::PortEvent;
use light_clients::host::BlockContext;
use light_clients::{ChainId, PacketId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::AppRefusal;

pub mod checks;
pub mod rules;

#[cfg(test)]
mod tests;

pub use checks::{Severity, Standing};
pub use rules::{CustomsRules, RulesError, Webhooks};

/// Where an event that a record rests on sits, and how to prove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub event_id: String,
    /// `CUSTOMS_DECLARATION`, `SHIPMENT/CUS/RELS`, `EQUIPMENT/GTIN` ...
    pub kind: String,
    /// The ledger the event was recorded on first.
    pub origin: ChainId,
    /// The block of this ledger that recorded it (or received it).
    pub height: u64,
    /// The packet that carried it here, or that carries it away.
    pub packet: Option<PacketId>,
    /// How to check it: the RPC routes of its Merkle proofs.
    pub proof: String,
}

/// One container of a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredBox {
    pub equipment_reference: String,
    pub seals: Vec<String>,
    /// As declared (a decimal), if declared.
    pub gross_weight_kg: Option<String>,
}

/// A linked port's honouring of a declaration released at its port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Honour {
    pub height: u64,
    /// The release (CUS RELS) from the declaring ledger.
    pub release: Evidence,
    pub note: String,
}

/// A declaration as this ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub number: String,
    pub declaration_type: String,
    pub customs_office_code: String,
    /// The declaring ledger.
    pub origin: ChainId,
    /// The declaring port: the route's port of loading (UN/LOCODE).
    pub port: String,
    pub containers: Vec<DeclaredBox>,
    /// Loading, transhipment and discharge ports, in order, normalised.
    pub route: Vec<String>,
    pub transport_document_reference: Option<String>,
    pub valid_until: Option<String>,
    pub standing: Standing,
    pub evidence: Evidence,
    /// Its CUS events recorded here, in order.
    pub lifecycle: Vec<Evidence>,
    /// At a linked port: honoured, once.
    pub honoured: Option<Honour>,
    /// At a linked port: the declared containers seen there (GTIN, DISC, LOAD).
    pub arrived: BTreeSet<String>,
}

/// A container's customs status at this ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerCustoms {
    /// declared, requested, held, released, completed, revoked.
    pub status: String,
    pub declaration: String,
    /// The declaring port and ledger.
    pub port: String,
    pub origin: ChainId,
    /// Released here on the strength of another port's declaration.
    pub honoured: bool,
    pub note: String,
}

/// One rule's verdict on one container, recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossCheck {
    pub id: u64,
    pub rule: String,
    pub passed: bool,
    pub container: String,
    pub declaration: String,
    pub ledger: ChainId,
    /// Where the container was observed (UN/LOCODE), if the event says.
    pub port: Option<String>,
    pub height: u64,
    pub detail: String,
    /// The cargo event, then the declaration (and its release, if any).
    pub evidence: Vec<Evidence>,
    /// The warning a failure raised.
    pub warning: Option<u64>,
}

/// A warning to customs officers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// 1, 2, 3 ... in the order the ledger executed them.
    pub id: u64,
    pub severity: Severity,
    pub rule: String,
    pub container: Option<String>,
    pub declaration: Option<String>,
    pub ledger: ChainId,
    pub port: Option<String>,
    /// The block that raised it; delivered once that block is sealed.
    pub height: u64,
    pub time: Timestamp,
    pub message: String,
    pub evidence: Vec<Evidence>,
}

/// Counts behind the metrics, by `rule/severity` and `rule/passed|failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tallies {
    pub warnings: BTreeMap<String, u64>,
    pub checks: BTreeMap<String, u64>,
}

/// The customs app of one ledger.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CustomsApp {
    pub declarations: BTreeMap<String, Declaration>,
    /// CUS events for declarations not known here yet, by number.
    pub waiting: BTreeMap<String, Vec<(Standing, Evidence)>>,
    pub containers: BTreeMap<String, ContainerCustoms>,
    pub checks: Vec<CrossCheck>,
    pub warnings: Vec<Warning>,
    pub tallies: Tallies,
    /// The port's rules (`--customs-rules`): configuration, not state.
    #[serde(skip)]
    rules: Arc<CustomsRules>,
}

/// The declaration's fields the app reads (the event's JSON, camelCase;
/// the event rules checked them already).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeclarationJson {
    declaration_number: String,
    #[serde(default)]
    declaration_type: String,
    #[serde(default)]
    customs_office_code: String,
    declarant: Option<PartyJson>,
    #[serde(default)]
    parties: Vec<PartyJson>,
    #[serde(default)]
    goods: Vec<GoodsJson>,
    #[serde(default)]
    containers: Vec<ContainerJson>,
    transport_document_reference: Option<String>,
    route: Option<RouteJson>,
    valid_until: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PartyJson {
    #[serde(default)]
    name: String,
    usci: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoodsJson {
    #[serde(default)]
    line_number: Value,
    #[serde(default)]
    hs_code: String,
    dangerous_goods: Option<DangerousJson>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DangerousJson {
    un_number: Option<String>,
    imdg_class: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerJson {
    equipment_reference: String,
    #[serde(default)]
    seals: Vec<String>,
    gross_weight_kg: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteJson {
    port_of_loading: Option<String>,
    #[serde(default)]
    transhipment_ports: Vec<String>,
    port_of_discharge: Option<String>,
}

/// A decimal given as a JSON number or string.
fn decimal(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// The verified gross mass an EQUIPMENT event carries, in kg: portrelay's
/// extension `verifiedGrossMass: {"value": 6230.5, "unit": "KGM"}` (DCSA
/// T&T has no VGM field; the shape is DCSA 3.0's weight object, the units
/// UN/ECE Rec. 20's KGM and LBR).
pub fn verified_gross_mass_kg(json: &Value) -> Option<f64> {
    let vgm = json.get("verifiedGrossMass")?;
    let value = decimal(vgm.get("value")?)?;
    match vgm.get("unit").and_then(Value::as_str).unwrap_or("KGM") {
        "KGM" => Some(value),
        "LBR" => Some(value * 0.453_592_37),
        _ => None,
    }
}

/// The seal numbers an EQUIPMENT event reports: 2.x `seals[].sealNumber`,
/// 3.0 `equipmentDetails.seals[].number`; none if it reports no seals.
pub fn observed_seals(json: &Value) -> Option<Vec<String>> {
    let (list, field) = if let Some(l) = json.get("seals").and_then(Value::as_array) {
        (l, "sealNumber")
    } else {
        let l = json
            .get("equipmentDetails")
            .and_then(|d| d.get("seals"))
            .and_then(Value::as_array)?;
        (l, "number")
    };
    Some(
        list.iter()
            .filter_map(|s| s.get(field).and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
    )
}

/// The document references an event names (2.x `documentReferences[]`
/// with `documentReferenceValue`, 3.0 with `reference` or `value`).
fn document_references(json: &Value) -> Vec<String> {
    json.get("documentReferences")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|r| {
                    ["documentReferenceValue", "reference", "value"]
                        .iter()
                        .find_map(|k| r.get(*k).and_then(Value::as_str))
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn normalise_port(code: &str) -> String {
    adapters::events::normalize_unlocode(code)
        .map_or_else(|| code.to_uppercase(), |c| c.to_string())
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// The evidence of `event` recorded at `here` in block `height`.
fn evidence(
    event: &PortEvent,
    here: &ChainId,
    origin: &ChainId,
    packet: Option<&PacketId>,
    height: u64,
) -> Evidence {
    let path = |p: &PacketId| {
        format!(
            "{}/{}/{}/{}",
            p.channel.source, p.channel.destination, p.channel.app, p.sequence
        )
    };
    let proof = match packet {
        Some(p) if origin != here => format!(
            "received by {here} in block {height} (GET /v1/receipts/{0} on {here}); its commitment's Merkle proof at {origin}: GET /v1/packets/{0}",
            path(p)
        ),
        Some(p) => format!(
            "sent by {here} in block {height}: its commitment's Merkle proof, GET /v1/packets/{} on {here}",
            path(p)
        ),
        None => format!("recorded by {here} in block {height} (a local event, no packet)"),
    };
    Evidence {
        event_id: event.header().event_id.to_string(),
        kind: event.kind_label(),
        origin: origin.clone(),
        height,
        packet: packet.cloned(),
        proof,
    }
}

/// What one observation of the app is about.
struct Seen<'a> {
    event: &'a PortEvent,
    here: &'a ChainId,
    origin: &'a ChainId,
    packet: Option<&'a PacketId>,
    ctx: &'a BlockContext,
}

impl Seen<'_> {
    fn evidence(&self) -> Evidence {
        evidence(
            self.event,
            self.here,
            self.origin,
            self.packet,
            self.ctx.height,
        )
    }
}

/// The declaration's number, if `event` is a declaration.
fn declaration_number(event: &PortEvent) -> Option<String> {
    match event {
        PortEvent::CustomsDeclaration(d) => Some(d.declaration_number.to_string()),
        _ => None,
    }
}

fn read_declaration(event: &PortEvent) -> Result<DeclarationJson, AppRefusal> {
    serde_json::from_value(event.json().clone()).map_err(|e| AppRefusal::Payload {
        code: "customs.declaration",
        message: format!("not a declaration the customs app can read: {e}"),
    })
}

impl CustomsApp {
    /// The port's rules (set at start, before a restart's replay).
    pub fn set_rules(&mut self, rules: Arc<CustomsRules>) {
        self.rules = rules;
    }

    pub fn rules(&self) -> &CustomsRules {
        &self.rules
    }

    /// Warnings after `after`, up to `limit`, raised in blocks up to `sealed`.
    pub fn warnings_after(&self, after: u64, sealed: u64, limit: usize) -> Vec<Warning> {
        // Ids are 1, 2, 3 ...: warning `id` sits at index `id - 1`.
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        self.warnings
            .get(start.min(self.warnings.len())..)
            .unwrap_or_default()
            .iter()
            .take_while(|w| w.height <= sealed)
            .take(limit)
            .cloned()
            .collect()
    }

    /// A declaration submitted here under a number this ledger already
    /// holds is refused, unless it is this port's own declaration presented
    /// again to another port (the linked port decides: honoured once).
    pub fn check_local(
        &self,
        event: &PortEvent,
        here: &ChainId,
        destination: &ChainId,
    ) -> Result<(), AppRefusal> {
        if !matches!(event, PortEvent::CustomsDeclaration(_)) {
            return Ok(());
        }
        read_declaration(event)?;
        match declaration_number(event).and_then(|n| self.declarations.get(&n)) {
            Some(held) if &held.origin != here || destination == here => Err(AppRefusal::Payload {
                code: "customs.duplicate_declaration",
                message: format!(
                    "declaration {} is already recorded here (from {})",
                    held.number, held.origin
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Observes an event recorded here (`origin == here`) or received from
    /// `origin`. A declaration received a second time is refused (the
    /// warning it raises stays, as the eBL app's answer counts do).
    pub fn observe(
        &mut self,
        event: &PortEvent,
        here: &ChainId,
        origin: &ChainId,
        packet: Option<&PacketId>,
        ctx: &BlockContext,
    ) -> Result<(), AppRefusal> {
        let seen = Seen {
            event,
            here,
            origin,
            packet,
            ctx,
        };
        match event {
            PortEvent::Shipment(e) if e.document_type.to_string() == "CUS" => {
                if let Some(standing) = Standing::of_code(&e.shipment_event_type.to_string()) {
                    self.lifecycle(&seen, &e.document_id, standing);
                }
                Ok(())
            }
            PortEvent::Equipment(e) => {
                let code = e.activity.to_string();
                if matches!(code.as_str(), "GTIN" | "DISC" | "LOAD") {
                    if let Some(c) = event.container() {
                        self.arrival(&seen, &c.to_string());
                    }
                }
                Ok(())
            }
            PortEvent::CustomsDeclaration(_) => self.declaration(&seen),
            _ => Ok(()),
        }
    }

    fn warn(
        &mut self,
        seen: &Seen<'_>,
        rule: &str,
        (container, declaration): (Option<&str>, Option<&str>),
        port: Option<String>,
        message: String,
        evidence: Vec<Evidence>,
    ) -> u64 {
        let id = self.warnings.len() as u64 + 1;
        let severity = Severity::of(rule);
        *self
            .tallies
            .warnings
            .entry(format!("{rule}/{}", severity.as_str()))
            .or_default() += 1;
        self.warnings.push(Warning {
            id,
            severity,
            rule: rule.to_string(),
            container: container.map(str::to_string),
            declaration: declaration.map(str::to_string),
            ledger: seen.here.clone(),
            port,
            height: seen.ctx.height,
            time: seen.ctx.time,
            message,
            evidence,
        });
        id
    }

    fn record_check(
        &mut self,
        seen: &Seen<'_>,
        finding: checks::Finding,
        container: &str,
        number: &str,
        port: Option<String>,
        evidence: Vec<Evidence>,
    ) {
        let outcome = if finding.passed { "passed" } else { "failed" };
        *self
            .tallies
            .checks
            .entry(format!("{}/{outcome}", finding.rule))
            .or_default() += 1;
        let warning = (!finding.passed).then(|| {
            self.warn(
                seen,
                finding.rule,
                (Some(container), Some(number)),
                port.clone(),
                format!(
                    "{} failed for {container} under declaration {number}: {}",
                    finding.rule, finding.detail
                ),
                evidence.clone(),
            )
        });
        self.checks.push(CrossCheck {
            id: self.checks.len() as u64 + 1,
            rule: finding.rule.to_string(),
            passed: finding.passed,
            container: container.to_string(),
            declaration: number.to_string(),
            ledger: seen.here.clone(),
            port,
            height: seen.ctx.height,
            detail: finding.detail,
            evidence,
            warning,
        });
    }

    /// A declaration recorded here or received.
    fn declaration(&mut self, seen: &Seen<'_>) -> Result<(), AppRefusal> {
        let d = read_declaration(seen.event)?;
        let number = d.declaration_number.clone();
        let evidence = seen.evidence();
        if let Some(held) = self.declarations.get_mut(&number) {
            if &held.origin == seen.here && seen.origin == seen.here {
                // This port's own declaration presented again to a linked
                // port (`check_local` let it through): kept as it is.
                held.lifecycle.push(evidence);
                return Ok(());
            }
            // Honoured once: presented again (from anywhere), refused and warned.
            let message = format!(
                "declaration {number} presented again by {}: already {} here (from {}{})",
                seen.origin,
                if held.honoured.is_some() {
                    "honoured"
                } else {
                    "presented"
                },
                held.origin,
                held.honoured
                    .as_ref()
                    .map(|h| format!(", honoured in block {}", h.height))
                    .unwrap_or_default()
            );
            let first = held.evidence.clone();
            let port = Some(held.port.clone());
            self.warn(
                seen,
                checks::DECLARATION_REUSED,
                (None, Some(&number)),
                port,
                message.clone(),
                vec![evidence, first],
            );
            return Err(AppRefusal::Payload {
                code: "customs.reused",
                message,
            });
        }
        let route: Vec<String> = d
            .route
            .as_ref()
            .map(|r| {
                r.port_of_loading
                    .iter()
                    .chain(&r.transhipment_ports)
                    .chain(&r.port_of_discharge)
                    .map(|p| normalise_port(p))
                    .collect()
            })
            .unwrap_or_default();
        let port = route
            .first()
            .cloned()
            .unwrap_or_else(|| seen.origin.to_string());
        let declaration = Declaration {
            number: number.clone(),
            declaration_type: d.declaration_type.clone(),
            customs_office_code: d.customs_office_code.clone(),
            origin: seen.origin.clone(),
            port: port.clone(),
            containers: d
                .containers
                .iter()
                .map(|c| DeclaredBox {
                    equipment_reference: c.equipment_reference.clone(),
                    seals: c.seals.clone(),
                    gross_weight_kg: c.gross_weight_kg.as_ref().map(|w| match w {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                })
                .collect(),
            route,
            transport_document_reference: d.transport_document_reference.clone(),
            valid_until: d.valid_until.clone(),
            standing: Standing::Declared,
            evidence: evidence.clone(),
            lifecycle: Vec::new(),
            honoured: None,
            arrived: BTreeSet::new(),
        };
        for c in &declaration.containers {
            self.containers.insert(
                c.equipment_reference.clone(),
                ContainerCustoms {
                    status: Standing::Declared.as_str().to_string(),
                    declaration: number.clone(),
                    port: port.clone(),
                    origin: seen.origin.clone(),
                    honoured: false,
                    note: if seen.origin == seen.here {
                        format!("declared here under {number}")
                    } else {
                        format!(
                            "declared under {number} at port {port} ({}); not released yet",
                            seen.origin
                        )
                    },
                },
            );
        }
        self.declarations.insert(number.clone(), declaration);
        self.sensitive(seen, &d, &number, &port, &evidence);
        // CUS events that came before the declaration (another channel).
        for (standing, e) in self.waiting.remove(&number).unwrap_or_default() {
            self.apply_standing(seen, &number, standing, e);
        }
        self.try_honour(seen, &number);
        Ok(())
    }

    /// Sensitive cargo and screened parties, by this port's rules.
    fn sensitive(
        &mut self,
        seen: &Seen<'_>,
        d: &DeclarationJson,
        number: &str,
        port: &str,
        evidence: &Evidence,
    ) {
        let rules = self.rules.clone();
        let container =
            (d.containers.len() == 1).then(|| d.containers[0].equipment_reference.clone());
        for g in &d.goods {
            if let Some(why) = rules.sensitive_hs(&g.hs_code) {
                self.warn(
                    seen,
                    checks::SENSITIVE_HS,
                    (container.as_deref(), Some(number)),
                    Some(port.to_string()),
                    format!(
                        "declaration {number} line {}: HS {} is sensitive at this port ({why})",
                        g.line_number, g.hs_code
                    ),
                    vec![evidence.clone()],
                );
            }
            if let Some(dg) = &g.dangerous_goods {
                if let Some(class) = dg
                    .imdg_class
                    .as_ref()
                    .filter(|c| rules.imdg_classes.contains(*c))
                {
                    self.warn(
                        seen,
                        checks::SENSITIVE_IMDG,
                        (container.as_deref(), Some(number)),
                        Some(port.to_string()),
                        format!(
                            "declaration {number} line {}: IMDG class {class} ({}) is sensitive at this port",
                            g.line_number,
                            dg.un_number.as_deref().unwrap_or("no UN number")
                        ),
                        vec![evidence.clone()],
                    );
                }
            }
        }
        for p in d.declarant.iter().chain(&d.parties) {
            let hit = rules.screened.contains(&rules::screening_key(&p.name))
                || p.usci
                    .as_ref()
                    .is_some_and(|u| rules.screened.contains(&rules::screening_key(u)));
            if hit {
                self.warn(
                    seen,
                    checks::SCREENED_PARTY,
                    (container.as_deref(), Some(number)),
                    Some(port.to_string()),
                    format!(
                        "declaration {number}: party {:?}{} is on this port's screening list",
                        p.name,
                        p.usci
                            .as_ref()
                            .map(|u| format!(" ({u})"))
                            .unwrap_or_default()
                    ),
                    vec![evidence.clone()],
                );
            }
        }
    }

    /// A CUS event for declaration `number`.
    fn lifecycle(&mut self, seen: &Seen<'_>, number: &str, standing: Standing) {
        let e = seen.evidence();
        if standing == Standing::Held {
            let port = self.declarations.get(number).map(|d| d.port.clone());
            self.warn(
                seen,
                checks::CUSTOMS_HOLD,
                (None, Some(number)),
                port,
                format!(
                    "customs hold on declaration {number} (from {})",
                    seen.origin
                ),
                vec![e.clone()],
            );
        }
        if !self.declarations.contains_key(number) {
            self.waiting
                .entry(number.to_string())
                .or_default()
                .push((standing, e));
            return;
        }
        self.apply_standing(seen, number, standing, e);
        if standing == Standing::Completed {
            self.every_container_arrives(seen, number);
        }
        self.try_honour(seen, number);
    }

    fn apply_standing(&mut self, seen: &Seen<'_>, number: &str, standing: Standing, e: Evidence) {
        let Some(d) = self.declarations.get_mut(number) else {
            return;
        };
        d.standing = standing;
        d.lifecycle.push(e);
        let linked = &d.origin != seen.here;
        for c in &d.containers {
            if let Some(status) = self.containers.get_mut(&c.equipment_reference) {
                if status.declaration != d.number {
                    continue;
                }
                // Honoured here: the release stands until revoked or held.
                if status.honoured && matches!(standing, Standing::Released | Standing::Completed) {
                    continue;
                }
                status.status = standing.as_str().to_string();
                status.note = if linked {
                    format!(
                        "{} under declaration {number} at port {} ({})",
                        standing.as_str(),
                        d.port,
                        d.origin
                    )
                } else {
                    format!("{} under declaration {number}", standing.as_str())
                };
                if matches!(standing, Standing::Revoked | Standing::Held) {
                    status.honoured = false;
                }
            }
        }
    }

    /// At a linked port: honour a declaration released by its own ledger, once.
    fn try_honour(&mut self, seen: &Seen<'_>, number: &str) {
        let Some(d) = self.declarations.get_mut(number) else {
            return;
        };
        if &d.origin == seen.here
            || d.honoured.is_some()
            || !matches!(d.standing, Standing::Released | Standing::Completed)
        {
            return;
        }
        let Some(release) = d
            .lifecycle
            .iter()
            .rev()
            .find(|e| e.kind == "SHIPMENT/CUS/RELS" && e.origin == d.origin)
            .cloned()
        else {
            return;
        };
        let note = format!(
            "released on the strength of declaration {number} at port {} ({})",
            d.port, d.origin
        );
        d.honoured = Some(Honour {
            height: seen.ctx.height,
            release,
            note: note.clone(),
        });
        for c in &d.containers {
            self.containers.insert(
                c.equipment_reference.clone(),
                ContainerCustoms {
                    status: Standing::Released.as_str().to_string(),
                    declaration: number.to_string(),
                    port: d.port.clone(),
                    origin: d.origin.clone(),
                    honoured: true,
                    note: note.clone(),
                },
            );
        }
    }

    fn declaration_evidence(d: &Declaration) -> Vec<Evidence> {
        let mut v = vec![d.evidence.clone()];
        if let Some(h) = &d.honoured {
            v.push(h.release.clone());
        }
        v
    }

    /// [`checks::EVERY_CONTAINER_ARRIVES`], when a linked port's declaration completes.
    fn every_container_arrives(&mut self, seen: &Seen<'_>, number: &str) {
        let Some(d) = self.declarations.get(number) else {
            return;
        };
        if &d.origin == seen.here {
            return;
        }
        let mut evidence = vec![seen.evidence()];
        evidence.extend(Self::declaration_evidence(d));
        let findings: Vec<_> = d
            .containers
            .iter()
            .map(|c| {
                let r = &c.equipment_reference;
                (
                    r.clone(),
                    checks::arrived(r, d.arrived.contains(r), seen.here.as_str()),
                )
            })
            .collect();
        for (c, f) in findings {
            self.record_check(seen, f, &c, number, None, evidence.clone());
        }
    }

    /// A cargo event for `container` here: the cross-checks of its declaration.
    fn arrival(&mut self, seen: &Seen<'_>, container: &str) {
        let json = seen.event.json();
        let ports: Vec<String> = seen.event.ports().iter().map(ToString::to_string).collect();
        let port = ports.first().cloned();
        let declared = self
            .declarations
            .values()
            .filter(|d| &d.origin != seen.here)
            .find(|d| {
                d.containers
                    .iter()
                    .any(|c| c.equipment_reference == container)
            })
            .map(|d| d.number.clone());
        let Some(number) = declared else {
            // Under a declared transport document but on no declaration.
            let references = document_references(json);
            let under = self
                .declarations
                .values()
                .filter(|d| &d.origin != seen.here)
                .find(|d| {
                    d.transport_document_reference
                        .as_ref()
                        .is_some_and(|t| references.contains(t))
                })
                .map(|d| {
                    (
                        d.number.clone(),
                        d.containers.clone(),
                        Self::declaration_evidence(d),
                    )
                });
            if let Some((number, boxes, dev)) = under {
                let refs: Vec<String> = boxes.into_iter().map(|b| b.equipment_reference).collect();
                let mut evidence = vec![seen.evidence()];
                evidence.extend(dev);
                let f = checks::container_declared(&refs, container, &number);
                self.record_check(seen, f, container, &number, port, evidence);
            }
            return;
        };
        let Some(d) = self.declarations.get_mut(&number) else {
            return;
        };
        d.arrived.insert(container.to_string());
        let d = d.clone();
        let Some(declared_box) = d
            .containers
            .iter()
            .find(|c| c.equipment_reference == container)
        else {
            return;
        };
        let mut evidence = vec![seen.evidence()];
        evidence.extend(Self::declaration_evidence(&d));
        let refs: Vec<String> = d
            .containers
            .iter()
            .map(|b| b.equipment_reference.clone())
            .collect();
        let mut findings = vec![checks::container_declared(&refs, container, &number)];
        if let Some(observed) = observed_seals(json) {
            findings.push(checks::seals_equal(&declared_box.seals, &observed));
        }
        if let (Some(vgm), Some(declared)) = (
            verified_gross_mass_kg(json),
            declared_box
                .gross_weight_kg
                .as_deref()
                .and_then(|w| w.trim().parse::<f64>().ok()),
        ) {
            findings.push(checks::weight_within(declared, vgm, &self.rules));
        }
        if !ports.is_empty() {
            findings.push(checks::route_consistent(&d.route, &ports));
        }
        let at = seen.event.header().event_date_time;
        findings.push(checks::declaration_valid(
            d.standing,
            d.valid_until.as_deref().and_then(parse_time),
            at,
        ));
        for f in findings {
            self.record_check(seen, f, container, &number, port.clone(), evidence.clone());
        }
    }

    /// The app's records for `GET /v1/apps/customs/{kind}/{key}`; `None`
    /// when the kind is not one of the app's.
    pub fn record(
        &self,
        kind: &str,
        key: &str,
    ) -> Option<Option<Result<Value, serde_json::Error>>> {
        let some_list = |v: Vec<&CrossCheck>| (!v.is_empty()).then(|| serde_json::to_value(v));
        Some(match kind {
            "declarations" => self.declarations.get(key).map(serde_json::to_value),
            "containers" => self.containers.get(key).map(serde_json::to_value),
            "container-checks" => {
                some_list(self.checks.iter().filter(|c| c.container == key).collect())
            }
            "declaration-checks" => some_list(
                self.checks
                    .iter()
                    .filter(|c| c.declaration == key)
                    .collect(),
            ),
            "warnings" => key
                .parse::<u64>()
                .ok()
                .and_then(|id| self.warnings.get(usize::try_from(id).ok()?.checked_sub(1)?))
                .map(serde_json::to_value),
            _ => return None,
        })
    }
}

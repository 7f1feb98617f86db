//! A partner's own entry (`/api/v1/merchant/profile`): merchant staff read it and
//! change what is theirs to change. The use cases are `app::merchants::profile`.

use actix_web::{get, patch, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::identity::MerchantStaff;
use crate::app::merchants::directory::PublicMerchant;
use crate::app::merchants::profile::{self, ProfileEdit};
use crate::db::merchants::MerchantRow;
use crate::domain::merchant::EmergencyCapability;
use crate::domain::{china_today, Phone};
use crate::error::AppResult;
use crate::http::{Json, Reply, State};
use crate::validate::Fields;

/// The caller's merchant: its directory entry, its contact and where it stands.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "kind": "enterprise", "category": "pharmacy", "region_code": "440303", "address": "深圳市罗湖区人民南路1号",
    "latitude": 22.5431, "longitude": 114.1182, "services": "现役军人、退役军人购药九折",
    "measures": "设拥军优先窗口", "commitments": "明码标价，优先服务",
    "emergency_capabilities": ["medical", "supplies"], "emergency_commitment": "急时战时无偿提供常用药品",
    "badge_no": "YJ-440303-2026-00001", "contact_name": "李明", "contact_phone_masked": "138****5678",
    "status": "active", "agreement_end": "2029-11-30"}))]
pub struct OwnMerchant {
    #[serde(flatten)]
    pub entry: PublicMerchant,
    pub contact_name: String,
    /// Masked, as every phone number in an answer but a holder's own.
    pub contact_phone_masked: String,
    /// As of today.
    pub status: String,
    pub agreement_end: Option<chrono::NaiveDate>,
}

impl OwnMerchant {
    fn of(row: &MerchantRow) -> AppResult<OwnMerchant> {
        Ok(OwnMerchant {
            entry: PublicMerchant::from(row),
            contact_name: row.contact_name.clone(),
            contact_phone_masked: crate::domain::phone::mask(&row.contact_phone),
            status: row.effective_status(china_today())?.as_str().to_owned(),
            agreement_end: row.agreement_end,
        })
    }
}

/// The caller's merchant, as its staff see it.
#[utoipa::path(tag = "merchants", security(("staff" = [])), responses(
    (status = 200, body = OwnMerchant),
    (status = 403, body = crate::error::Problem, description = "`forbidden`: not merchant staff")))]
#[get("/merchant/profile")]
pub async fn get_profile(state: State, staff: MerchantStaff) -> Reply<OwnMerchant> {
    let row = profile::own(&state.db, &staff).await?;
    Ok(web::Json(OwnMerchant::of(&row)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"contact_name": "李明", "contact_phone": "13812345678",
    "address": "深圳市罗湖区人民南路2号", "latitude": 22.5433, "longitude": 114.1185,
    "services": "现役军人、退役军人购药九折，免费测血压", "measures": "设拥军优先窗口，专人引导",
    "commitments": "明码标价，优先服务", "emergency_capabilities": ["medical", "supplies"],
    "emergency_commitment": "急时战时无偿提供常用药品，24小时内送达"}))]
pub struct ProfileRequest {
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    /// With `longitude`: both or neither.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// 拥军内容.
    pub services: Option<String>,
    /// 具体措施.
    pub measures: Option<String>,
    /// 服务承诺.
    pub commitments: Option<String>,
    /// Replaces the list: any of transport, logistics, medical, telecom, radio_spectrum,
    /// technology, supplies.
    pub emergency_capabilities: Option<Vec<String>>,
    /// 急时战时: what the partner commits in an emergency.
    pub emergency_commitment: Option<String>,
}

impl ProfileRequest {
    fn parse(&self) -> AppResult<ProfileEdit> {
        let mut f = Fields::new();
        let text = |f: &mut Fields, field: &str, raw: &Option<String>, max: usize| match raw {
            None => Some(None),
            Some(raw) => f.text(field, Some(raw), max).map(Some),
        };
        let contact_name = text(&mut f, "contact_name", &self.contact_name, 50);
        let contact_phone =
            f.optional_str("contact_phone", self.contact_phone.as_deref(), Phone::parse);
        let address = text(&mut f, "address", &self.address, 200);
        let services = match &self.services {
            None => Some(None),
            Some(raw) => f.free_text("services", Some(raw), 2000).map(Some),
        };
        // Measures, commitments and the emergency commitment may be emptied.
        let free = |f: &mut Fields, field: &str, raw: &Option<String>| match raw {
            None => Some(None),
            Some(raw) => f
                .optional_free_text(field, Some(raw), 2000)
                .map(|v| Some(v.unwrap_or_default())),
        };
        let measures = free(&mut f, "measures", &self.measures);
        let commitments = free(&mut f, "commitments", &self.commitments);
        let emergency_commitment = free(&mut f, "emergency_commitment", &self.emergency_commitment);
        let location = match (self.latitude, self.longitude) {
            (None, None) => Some(None),
            (Some(lat), Some(lng))
                if lat.is_finite()
                    && lng.is_finite()
                    && lat.abs() <= 90.0
                    && lng.abs() <= 180.0 =>
            {
                Some(Some((lat, lng)))
            }
            (Some(_), Some(_)) => {
                f.error(
                    "latitude",
                    "latitude must be within ±90 and longitude within ±180",
                );
                None
            }
            _ => {
                f.error("longitude", "latitude and longitude go together");
                None
            }
        };
        let capabilities = match &self.emergency_capabilities {
            None => Some(None),
            Some(list) => f
                .vocab_list::<EmergencyCapability, _>("emergency_capabilities", list)
                .map(Some),
        };
        f.build(|| {
            Some(ProfileEdit {
                contact_name: contact_name?,
                contact_phone: contact_phone?,
                address: address?,
                location: location?,
                services: services?,
                measures: measures?,
                commitments: commitments?,
                capabilities: capabilities?,
                emergency_commitment: emergency_commitment?,
            })
        })
    }
}

/// Changes the caller's merchant's own entry, any fields at once: contact, address and
/// location, services, measures, commitments, emergency capabilities and commitment.
/// Name, kind, category and region are an office's to change. Audited as
/// `merchant.update_profile`; the directory and the till see it at once.
#[utoipa::path(tag = "merchants", request_body = ProfileRequest, security(("staff" = [])), responses(
    (status = 200, body = OwnMerchant),
    (status = 403, body = crate::error::Problem, description = "`forbidden`: not merchant staff"),
    (status = 409, body = crate::error::Problem, description = "`merchant_closed`, `concurrent_change`")))]
#[patch("/merchant/profile")]
pub async fn update_profile(
    state: State,
    staff: MerchantStaff,
    body: Json<ProfileRequest>,
) -> Reply<OwnMerchant> {
    let edit = body.parse()?;
    let row = profile::update_profile(&state.db, &state.cache, &staff, edit).await?;
    Ok(web::Json(OwnMerchant::of(&row)?))
}

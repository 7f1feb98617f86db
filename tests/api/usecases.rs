//! The use cases called directly, without HTTP and without a server: the admission
//! lifecycle and the redemption (quota and idempotency), on both backend pairs. What
//! the command line and a future job runner see of `app`.

use yongjun::app::identity::{AdminUser, MerchantStaff, StaffUser, Terminal};
use yongjun::app::merchants::admission::{self, Agreement, Review};
use yongjun::app::merchants::directory::{self, Application};
use yongjun::app::offers::form::OfferRequest;
use yongjun::app::pos::redeem::{redeem, RedeemRequest};
use yongjun::app::pos::writes::{redemption_queue, RedemptionQueue};
use yongjun::app::pos::{self, LocalCaches, PointOfSale};
use yongjun::app::{beneficiaries, cards, offers, staff, Policy};
use yongjun::auth::qr::QrKeys;
use yongjun::cache::Cache;
use yongjun::crypto::DataCipher;
use yongjun::db::{CorruptRow, DatabaseTarget, Db, MerchantId};
use yongjun::domain::merchant::{Action, MerchantCategory, MerchantKind, MerchantStatus, Verdict};
use yongjun::domain::offer::OfferAction;
use yongjun::domain::{CreditCode, Phone, RegionCode};
use yongjun::error::Code;

use crate::helpers::{create_test_database, pg_base_url, redis_url, Backend, DatabaseGuard};

/// A migrated database and a cache of a test's own, and the policy the use cases follow.
struct World {
    db: Db,
    cache: Cache,
    policy: Policy,
    cipher: DataCipher,
    qr: QrKeys,
    local: LocalCaches,
    queue: RedemptionQueue,
    admin: AdminUser,
    _guard: Option<DatabaseGuard>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new(backend: Backend) -> World {
        let dir = tempfile::tempdir().unwrap();
        let (target, guard, cache) = match backend {
            Backend::Postgres => {
                let name = create_test_database().await;
                let prefix = format!("yjuse:{}:", uuid::Uuid::new_v4().simple());
                (
                    DatabaseTarget::Postgres(format!("{}/{name}", pg_base_url())),
                    Some(DatabaseGuard(name)),
                    Cache::redis(&redis_url(), &prefix).unwrap(),
                )
            }
            Backend::Sqlite => (
                DatabaseTarget::Sqlite(dir.path().join("yongjun.db")),
                None,
                Cache::memory(),
            ),
        };
        yongjun::db::run_migrations(&target).await.unwrap();
        let db = Db::connect(&target, 8).await.unwrap();
        staff::bootstrap_admin(&db, Some("use-case-admin-pass"))
            .await
            .unwrap();
        let admin = {
            let mut pooled = db.get().await.unwrap();
            let row = yongjun::db::staff::find_by_username(&mut pooled.conn(), "admin")
                .await
                .unwrap()
                .unwrap();
            AdminUser::try_from_staff(StaffUser::from_row(row).unwrap()).unwrap()
        };
        World {
            queue: redemption_queue(&db, 4, 32),
            db,
            cache,
            policy: Policy {
                required_departments: yongjun::settings::DEFAULT_DEPARTMENTS
                    .iter()
                    .map(|d| d.to_string())
                    .collect(),
                public_notice_days: 0,
                qr_ttl_secs: 60,
                offline_max_age_hours: 72,
                max_bill_fen: yongjun::domain::offer::MAX_AMOUNT_FEN,
                revocations_valid_hours: 24,
                exit_review: Default::default(),
                clock: yongjun::app::Clock::system(),
            },
            cipher: DataCipher::new(&[9u8; 32]),
            qr: QrKeys::from_pem(&yongjun::auth::qr::generate_signing_key_pem()).unwrap(),
            local: LocalCaches::new(),
            admin,
            _guard: guard,
            _dir: dir,
        }
    }

    fn till(&self) -> PointOfSale<'_> {
        PointOfSale {
            db: &self.db,
            cache: &self.cache,
            qr: &self.qr,
            local: &self.local,
            queue: &self.queue,
            qr_ttl_secs: 60,
            offline_max_age_hours: 72,
            max_bill_fen: yongjun::domain::offer::MAX_AMOUNT_FEN,
        }
    }
}

fn application(n: u32) -> Application {
    let first17 = format!("91440300MA5F{n:05}");
    let check = yongjun::domain::credit_code::check_character(&first17).unwrap();
    Application {
        name: format!("用例商户{n}号"),
        kind: MerchantKind::Enterprise,
        credit_code: Some(CreditCode::parse(&format!("{first17}{check}")).unwrap()),
        legal_representative: Some("王建国".into()),
        contact_name: "李明".into(),
        contact_phone: Phone::parse("13812345678").unwrap(),
        address: "深圳市罗湖区人民南路1号".into(),
        region: RegionCode::parse("440303").unwrap(),
        category: MerchantCategory::Pharmacy,
        latitude: 22.54,
        longitude: 114.11,
        services: "九折".into(),
        measures: String::new(),
        commitments: String::new(),
        capabilities: Vec::new(),
        emergency_commitment: String::new(),
    }
}

fn agreement() -> Agreement {
    Agreement {
        number: "YJ-USE-1".into(),
        start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        end: chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap(),
    }
}

/// Applies, is reviewed by every department, approved and activated: an active merchant.
async fn admit(w: &World, n: u32) -> MerchantId {
    let id = directory::apply(&w.db, application(n)).await.unwrap();
    for department in &w.policy.required_departments {
        let review = Review {
            department: department.clone(),
            verdict: Verdict::Pass,
            comment: String::new(),
        };
        admission::record_review(&w.db, &w.cache, &w.policy, &w.admin, id, review)
            .await
            .unwrap();
    }
    admission::approve(&w.db, &w.cache, &w.policy, &w.admin, id, None)
        .await
        .unwrap();
    admission::activate(&w.db, &w.cache, &w.policy, &w.admin, id, agreement())
        .await
        .unwrap();
    id
}

async fn admission_lifecycle(w: World) {
    let id = directory::apply(&w.db, application(1)).await.unwrap();
    // Approval needs every department's pass.
    let early = admission::approve(&w.db, &w.cache, &w.policy, &w.admin, id, None)
        .await
        .unwrap_err();
    assert_eq!(
        early.code,
        Code::InvalidTransition,
        "a pending merchant is not approved"
    );
    let first = Review {
        department: w.policy.required_departments[0].clone(),
        verdict: Verdict::Pass,
        comment: "证照齐全".into(),
    };
    let file = admission::record_review(&w.db, &w.cache, &w.policy, &w.admin, id, first)
        .await
        .unwrap();
    assert_eq!(file.status, MerchantStatus::UnderReview);
    assert_eq!(
        file.gap.missing.len(),
        w.policy.required_departments.len() - 1
    );
    let incomplete = admission::approve(&w.db, &w.cache, &w.policy, &w.admin, id, None)
        .await
        .unwrap_err();
    assert_eq!(incomplete.code, Code::ReviewsIncomplete);
    for department in &w.policy.required_departments[1..] {
        let review = Review {
            department: department.clone(),
            verdict: Verdict::Pass,
            comment: String::new(),
        };
        admission::record_review(&w.db, &w.cache, &w.policy, &w.admin, id, review)
            .await
            .unwrap();
    }
    let file = admission::approve(
        &w.db,
        &w.cache,
        &w.policy,
        &w.admin,
        id,
        Some("同意".into()),
    )
    .await
    .unwrap();
    assert_eq!(file.status, MerchantStatus::PublicNotice);
    let file = admission::activate(&w.db, &w.cache, &w.policy, &w.admin, id, agreement())
        .await
        .unwrap();
    assert_eq!(file.status, MerchantStatus::Active);
    assert!(file
        .merchant
        .badge_no
        .as_deref()
        .unwrap()
        .starts_with("YJ-440303-"));
    let public = directory::public_merchant(&w.db, &w.cache, id)
        .await
        .unwrap();
    assert_eq!(public.id, id);
    // Suspend, reinstate, revoke; then nothing more.
    let file = admission::decide(
        &w.db,
        &w.cache,
        &w.policy,
        &w.admin,
        id,
        Action::Suspend,
        "整改".into(),
    )
    .await
    .unwrap();
    assert_eq!(file.status, MerchantStatus::Suspended);
    let gone = directory::public_merchant(&w.db, &w.cache, id)
        .await
        .unwrap_err();
    assert_eq!(
        gone.code,
        Code::MerchantNotFound,
        "the cache was invalidated with the change"
    );
    admission::decide(
        &w.db,
        &w.cache,
        &w.policy,
        &w.admin,
        id,
        Action::Reinstate,
        "已整改".into(),
    )
    .await
    .unwrap();
    let file = admission::decide(
        &w.db,
        &w.cache,
        &w.policy,
        &w.admin,
        id,
        Action::Revoke,
        "退出".into(),
    )
    .await
    .unwrap();
    assert_eq!(file.status, MerchantStatus::Revoked);
    let again = admission::decide(
        &w.db,
        &w.cache,
        &w.policy,
        &w.admin,
        id,
        Action::Reinstate,
        "再来".into(),
    )
    .await
    .unwrap_err();
    assert_eq!(again.code, Code::InvalidTransition);
    // Every change is in the audit log, in order.
    let actions: Vec<String> = file.history.iter().map(|a| a.action.clone()).collect();
    let reviews = w.policy.required_departments.len();
    let mut expected = vec!["merchant.apply".to_owned()];
    expected.extend(std::iter::repeat_n(
        "merchant.record_review".to_owned(),
        reviews,
    ));
    expected.extend(
        ["approve", "activate", "suspend", "reinstate", "revoke"].map(|a| format!("merchant.{a}")),
    );
    assert_eq!(actions, expected);
}

async fn redemption_keeps_its_quota_and_its_word(w: World) {
    let merchant = admit(&w, 2).await;
    let account = staff::NewStaffAccount::for_merchant(
        "usecase.shop",
        "usecase-shop-pass",
        merchant,
        RegionCode::parse("440303").unwrap(),
    )
    .unwrap();
    let row = staff::create_account(&w.db, &w.admin.actor(), account)
        .await
        .unwrap();
    let shop = MerchantStaff::try_from_staff(StaffUser::from_row(row).unwrap()).unwrap();
    let request: OfferRequest = serde_json::from_value(serde_json::json!(
        {"title": "限量九折", "kind": "percent_off", "percent_off": 10, "total_quota": 3}))
    .unwrap();
    let offer = offers::create(&w.db, &shop, &request).await.unwrap();
    offers::act_as_office(
        &w.db,
        &w.cache,
        &w.admin,
        offer.id,
        OfferAction::Approve,
        None,
    )
    .await
    .unwrap();
    let (terminal_row, _key) = pos::create_terminal(&w.db, &w.cipher, &shop, "一号".into())
        .await
        .unwrap();
    let terminal = Terminal {
        id: terminal_row.id,
        merchant_id: merchant,
    };
    let person: beneficiaries::CreateBeneficiaryRequest =
        serde_json::from_value(serde_json::json!(
        {"name": "张三明", "id_number": crate::beneficiaries::id_number(7), "category": "veteran",
         "region_code": "440303"}))
        .unwrap();
    let input = beneficiaries::BeneficiaryInput::parse(&person).unwrap();
    let person = beneficiaries::create(&w.db, &w.cipher, &w.admin, input)
        .await
        .unwrap();
    let card = cards::issue(
        &w.db, &w.cache, &w.cipher, &w.admin, person.id, "general", None,
    )
    .await
    .unwrap()
    .card;
    let token = |_: usize| w.qr.sign(card.id, card.version, 60, None).unwrap().0;
    let ask = |token: String| RedeemRequest {
        token,
        offer_id: offer.id,
        bill_fen: Some(10_000),
        companions: None,
        verified_offline_at: None,
    };

    // Ten tills at once against a quota of three.
    let till = w.till();
    let requests: Vec<(String, RedeemRequest)> = (0..10)
        .map(|i| (format!("key-{i}"), ask(token(i))))
        .collect();
    let answers = futures_util::future::join_all(
        requests
            .iter()
            .map(|(key, request)| redeem(&till, &terminal, key, request)),
    )
    .await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    let taken = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(taken, 3, "the quota holds: {answers:?}");
    let refused: Vec<&str> = answers
        .iter()
        .filter(|a| a.status != 201)
        .map(|a| a.body.as_str())
        .collect();
    assert_eq!(refused.len(), 7);
    assert!(
        refused.iter().all(|b| b.contains("\"quota_exhausted\"")),
        "{refused:?}"
    );

    // The same key and request: the first answer again, nothing new.
    let (key, first) = &requests[0];
    let before = answers[0].clone();
    let replay = redeem(&till, &terminal, key, first).await.unwrap();
    assert_eq!(replay, before);
    // The same key for another request: refused.
    let reused = redeem(&till, &terminal, key, &ask(token(99)))
        .await
        .unwrap_err();
    assert_eq!(reused.code, Code::IdempotencyKeyReused);
    // A spent token under a new key: token_used (or, beyond the quota, still refused).
    let winner = requests
        .iter()
        .zip(&answers)
        .find(|(_, a)| a.status == 201)
        .map(|((_, r), _)| r.token.clone())
        .unwrap();
    let spent = redeem(&till, &terminal, "another-key", &ask(winner))
        .await
        .unwrap();
    assert_eq!(spent.status, 409);
    assert!(spent.body.contains("\"token_used\""), "{}", spent.body);
    let counted = {
        let mut pooled = w.db.get().await.unwrap();
        yongjun::db::offers::find_offer(&mut pooled.conn(), offer.id)
            .await
            .unwrap()
            .unwrap()
            .used_total
    };
    assert_eq!(counted, 3);
}

async fn a_corrupt_row_is_an_error_that_names_it(w: World) {
    let id = admit(&w, 3).await;
    {
        let mut pooled = w.db.get().await.unwrap();
        let mut conn = pooled.conn();
        yongjun::with_conn!(&mut conn, |c| {
            use diesel::{ExpressionMethods, QueryDsl};
            use diesel_async::RunQueryDsl;
            use yongjun::db::schema::merchants::dsl;
            diesel::update(dsl::merchants.filter(dsl::id.eq(id)))
                .set(dsl::status.eq("zombie"))
                .execute(c)
                .await
                .unwrap()
        });
    }
    let error = yongjun::app::merchants::get(&w.db, &w.policy, &w.admin, id)
        .await
        .unwrap_err();
    assert_eq!(
        error.code,
        Code::InternalError,
        "not read as another legal state"
    );
    let cause = error.source.as_ref().unwrap();
    let corrupt = cause.downcast_ref::<CorruptRow>().expect("a CorruptRow");
    assert_eq!(
        (
            corrupt.table,
            corrupt.id.as_str(),
            corrupt.column,
            corrupt.value.as_str()
        ),
        ("merchants", id.to_string().as_str(), "status", "zombie")
    );
}

macro_rules! on_both {
    ($($name:ident),*) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(World::new(Backend::Postgres).await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(World::new(Backend::Sqlite).await).await
                }
            }
        )*
    };
}

on_both!(
    admission_lifecycle,
    redemption_keeps_its_quota_and_its_word,
    a_corrupt_row_is_an_error_that_names_it
);

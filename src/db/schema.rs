// Kept by hand: id columns use the custom `DbUuid` SQL type (native `uuid` on
// PostgreSQL, TEXT on SQLite), which `diesel print-schema` cannot express for both.
// Timestamps are UTC `Timestamp` on both backends.

diesel::table! {
    use diesel::sql_types::*;

    regions (code) {
        code -> Text,
        name -> Text,
        level -> SmallInt,
        parent_code -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    staff_users (id) {
        id -> DbUuid,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        region_code -> Nullable<Text>,
        department -> Nullable<Text>,
        merchant_id -> Nullable<DbUuid>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    audit_log (id) {
        id -> DbUuid,
        actor_id -> Nullable<DbUuid>,
        actor_label -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        region_code -> Nullable<Text>,
        before_status -> Nullable<Text>,
        after_status -> Nullable<Text>,
        reason -> Nullable<Text>,
        details -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    auth_failures (id) {
        id -> DbUuid,
        scope -> Text,
        subject -> Text,
        failed_at -> Timestamp,
        client_addr -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    cache_invalidations (id) {
        id -> DbUuid,
        keys -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    needs (id) {
        id -> DbUuid,
        title -> Text,
        description -> Text,
        category -> Text,
        region_code -> Text,
        requesting_unit -> Text,
        beneficiaries_count -> BigInt,
        urgency -> Text,
        wanted_by -> Nullable<Date>,
        status -> Text,
        close_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    resources (id) {
        id -> DbUuid,
        merchant_id -> DbUuid,
        title -> Text,
        category -> Text,
        capacity -> Text,
        capacity_amount -> Nullable<BigInt>,
        capacity_unit -> Nullable<Text>,
        region_code -> Text,
        available_from -> Nullable<Date>,
        available_until -> Nullable<Date>,
        mode -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    tasks (id) {
        id -> DbUuid,
        need_id -> Nullable<DbUuid>,
        direction -> Text,
        title -> Text,
        region_code -> Text,
        owner_unit -> Text,
        owner_user -> Text,
        measures -> Text,
        deadline -> Date,
        merchant_id -> Nullable<DbUuid>,
        publish -> Bool,
        status -> Text,
        close_reason -> Nullable<Text>,
        evidence -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    task_events (id) {
        id -> DbUuid,
        task_id -> DbUuid,
        kind -> Text,
        body -> Text,
        attachments -> Text,
        status -> Nullable<Text>,
        author -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(staff_users -> regions (region_code));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    merchants (id) {
        id -> DbUuid,
        name -> Text,
        kind -> Text,
        credit_code -> Nullable<Text>,
        legal_representative -> Nullable<Text>,
        contact_name -> Text,
        contact_phone -> Text,
        address -> Text,
        region_code -> Text,
        category -> Text,
        latitude -> Double,
        longitude -> Double,
        services -> Text,
        measures -> Text,
        commitments -> Text,
        emergency_capabilities -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        notice_ends_at -> Nullable<Timestamp>,
        agreement_no -> Nullable<Text>,
        agreement_start -> Nullable<Date>,
        agreement_end -> Nullable<Date>,
        badge_no -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        admitted_at -> Nullable<Timestamp>,
        exit_review_reason -> Nullable<Text>,
        exit_review_flagged_at -> Nullable<Timestamp>,
        exit_review_cleared_at -> Nullable<Timestamp>,
        emergency_commitment -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    merchant_reviews (id) {
        id -> DbUuid,
        merchant_id -> DbUuid,
        department -> Text,
        verdict -> Text,
        comment -> Text,
        reviewer_id -> Nullable<DbUuid>,
        reviewer_label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    merchant_objections (id) {
        id -> DbUuid,
        merchant_id -> DbUuid,
        content -> Text,
        contact_phone -> Nullable<Text>,
        status -> Text,
        resolution_comment -> Nullable<Text>,
        resolved_by -> Nullable<DbUuid>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    badge_sequences (region_code, year) {
        region_code -> Text,
        year -> Integer,
        last_seq -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    card_products (code) {
        code -> Text,
        name -> Text,
        description -> Text,
        default_valid_years -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    beneficiaries (id) {
        id -> DbUuid,
        name -> Text,
        id_number_enc -> Text,
        id_number_hash -> Text,
        id_number_masked -> Text,
        phone_enc -> Nullable<Text>,
        phone_masked -> Nullable<Text>,
        category -> Text,
        honors -> Text,
        region_code -> Text,
        primary_beneficiary_id -> Nullable<DbUuid>,
        relation -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    cards (id) {
        id -> DbUuid,
        card_no -> Text,
        beneficiary_id -> DbUuid,
        product -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        version -> Integer,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        activation_code_hash -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<DbUuid>,
        status_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    offers (id) {
        id -> DbUuid,
        merchant_id -> DbUuid,
        title -> Text,
        description -> Text,
        kind -> Text,
        percent_off -> Nullable<Integer>,
        amount_off_fen -> Nullable<BigInt>,
        price_fen -> Nullable<BigInt>,
        gift -> Nullable<Text>,
        eligible_categories -> Text,
        min_honor -> Nullable<Text>,
        companions_allowed -> Integer,
        valid_from -> Timestamp,
        valid_until -> Nullable<Timestamp>,
        recurring_dates -> Text,
        total_quota -> Nullable<BigInt>,
        used_total -> BigInt,
        per_holder_limit -> Nullable<Integer>,
        per_holder_period -> Nullable<Text>,
        channel -> Text,
        card_products -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    terminals (id) {
        id -> DbUuid,
        merchant_id -> DbUuid,
        name -> Text,
        api_key_hash -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    redemptions (id) {
        id -> DbUuid,
        offer_id -> DbUuid,
        merchant_id -> DbUuid,
        terminal_id -> DbUuid,
        card_id -> DbUuid,
        beneficiary_id -> DbUuid,
        jti -> Text,
        period_key -> Text,
        bill_fen -> Nullable<BigInt>,
        discount_fen -> BigInt,
        companions -> Integer,
        merchant_region_code -> Text,
        holder_region_code -> Text,
        status -> Text,
        void_reason -> Nullable<Text>,
        voided_at -> Nullable<Timestamp>,
        redeemed_at -> Timestamp,
        holder_category -> Text,
        card_product -> Text,
        offer_kind -> Text,
        merchant_category -> Text,
        offline -> Bool,
        verified_offline_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    offer_quota_shards (offer_id, shard) {
        offer_id -> DbUuid,
        shard -> SmallInt,
        granted -> BigInt,
        used -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    holder_usage (offer_id, beneficiary_id, period_key) {
        offer_id -> DbUuid,
        beneficiary_id -> DbUuid,
        period_key -> Text,
        used -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    idempotency_keys (terminal_id, key) {
        terminal_id -> DbUuid,
        key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    complaints (id) {
        id -> DbUuid,
        merchant_id -> DbUuid,
        beneficiary_id -> DbUuid,
        redemption_id -> Nullable<DbUuid>,
        region_code -> Text,
        rating -> Integer,
        content -> Text,
        status -> Text,
        outcome -> Nullable<Text>,
        resolution_comment -> Nullable<Text>,
        resolved_by -> Nullable<DbUuid>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    inspections (id) {
        id -> DbUuid,
        region_code -> Text,
        sample_size -> Integer,
        seed -> BigInt,
        population -> Integer,
        created_by -> Nullable<DbUuid>,
        created_by_label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    inspection_items (inspection_id, merchant_id) {
        inspection_id -> DbUuid,
        merchant_id -> DbUuid,
        position -> Integer,
        outcome -> Nullable<Text>,
        notes -> Nullable<Text>,
        recorded_by -> Nullable<DbUuid>,
        recorded_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(offers -> merchants (merchant_id));
diesel::joinable!(redemptions -> offers (offer_id));
diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    card_changes (card_id, version) {
        card_id -> DbUuid,
        version -> Integer,
        status -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    targets (region_code, year) {
        region_code -> Text,
        year -> Integer,
        new_partners -> Nullable<BigInt>,
        insurance_gifts -> Nullable<BigInt>,
        activities -> Nullable<BigInt>,
        people_served -> Nullable<BigInt>,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(card_changes -> cards (card_id));
diesel::joinable!(cards -> beneficiaries (beneficiary_id));
diesel::joinable!(cards -> card_products (product));
diesel::joinable!(merchants -> regions (region_code));
diesel::joinable!(merchant_reviews -> merchants (merchant_id));
diesel::joinable!(merchant_objections -> merchants (merchant_id));
diesel::joinable!(complaints -> merchants (merchant_id));
diesel::joinable!(resources -> merchants (merchant_id));
diesel::joinable!(tasks -> needs (need_id));
diesel::joinable!(task_events -> tasks (task_id));
diesel::joinable!(inspection_items -> merchants (merchant_id));
diesel::joinable!(inspection_items -> inspections (inspection_id));

diesel::allow_tables_to_appear_in_same_query!(
    needs,
    resources,
    tasks,
    task_events,
    regions,
    staff_users,
    audit_log,
    auth_failures,
    merchants,
    merchant_reviews,
    merchant_objections,
    badge_sequences,
    card_products,
    beneficiaries,
    cards,
    offers,
    terminals,
    redemptions,
    holder_usage,
    offer_quota_shards,
    idempotency_keys,
    complaints,
    inspections,
    inspection_items,
    card_changes,
    targets
);

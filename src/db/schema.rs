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
    }
}

diesel::joinable!(staff_users -> regions (region_code));

diesel::allow_tables_to_appear_in_same_query!(regions, staff_users, audit_log, auth_failures);

//! Table definitions shared by both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    regions (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        alias_of -> Nullable<Text>,
    }
}

diesel::table! {
    agencies (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    agency_responsibilities (agency_code, application_kind) {
        agency_code -> Text,
        application_kind -> Text,
    }
}

diesel::table! {
    sectors (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        sector_code -> Text,
        name_zh -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    standard_prefixes (prefix) {
        prefix -> Text,
        level -> Text,
        name_zh -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    standards (id) {
        id -> Text,
        code -> Text,
        prefix -> Text,
        number -> Text,
        year -> Nullable<Integer>,
        title_zh -> Text,
        title_en -> Nullable<Text>,
        level -> Text,
        status -> Text,
        replaced_by_id -> Nullable<Text>,
        effective_on -> Nullable<Date>,
        notes -> Nullable<Text>,
        confidence -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        owner_enterprise_id -> Nullable<Text>,
        text_sha256 -> Nullable<Text>,
        issuer -> Nullable<Text>,
    }
}

diesel::table! {
    plan_targets (year, code, sector_code) {
        year -> Integer,
        code -> Text,
        sector_code -> Text,
        target -> BigInt,
        unit -> Text,
        description_zh -> Text,
        description_en -> Text,
    }
}

diesel::table! {
    enterprises (id) {
        id -> Text,
        uscc -> Text,
        uscc_override_reason -> Nullable<Text>,
        name -> Text,
        legal_representative -> Text,
        region_code -> Text,
        address -> Text,
        scale -> Text,
        above_designated_size -> Bool,
        contact_phone -> Text,
        contact_email -> Text,
        status -> Text,
        verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    enterprise_sectors (enterprise_id, sector_code) {
        enterprise_id -> Text,
        sector_code -> Text,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        enterprise_id -> Text,
        name -> Text,
        brand -> Text,
        gtin -> Nullable<Text>,
        sector_code -> Text,
        category_code -> Text,
        origin_region_code -> Text,
        ingredients -> Text,
        suitable_for -> Nullable<Text>,
        unsuitable_for -> Nullable<Text>,
        is_new_product -> Bool,
        launched_on -> Nullable<Date>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    product_standards (product_id, standard_id) {
        product_id -> Text,
        standard_id -> Text,
        declared_on -> Date,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        agency_code -> Nullable<Text>,
        enterprise_id -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        id -> Text,
        actor_id -> Nullable<Text>,
        actor_label -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        reason -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        locked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(categories -> sectors (sector_code));
diesel::joinable!(enterprise_sectors -> enterprises (enterprise_id));
diesel::joinable!(products -> enterprises (enterprise_id));
diesel::joinable!(product_standards -> products (product_id));
diesel::joinable!(product_standards -> standards (standard_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    enterprise_identity_changes,
    regions,
    agencies,
    agency_responsibilities,
    sectors,
    categories,
    standard_prefixes,
    standards,
    plan_targets,
    enterprises,
    enterprise_sectors,
    products,
    product_standards,
    users,
    refresh_tokens,
    audit_log,
    audit_head,
    application_kinds,
    certification_bodies,
    geographical_indications,
    gi_protected_areas,
    applications,
    application_events,
    objections,
    certifications,
    designations,
    record_status_changes,
    api_clients,
    credit_listings,
    spot_checks,
    spot_check_candidates,
    spot_check_targets,
    inspector_conflicts,
    renewals,
    webhooks,
    webhook_deliveries,
    import_jobs,
);

diesel::table! {
    application_kinds (code) {
        code -> Text,
        category -> Text,
        name_zh -> Text,
        name_en -> Text,
        validity_months -> Nullable<Integer>,
        accepting_applications -> Bool,
        public_notice -> Bool,
        notice_days -> Integer,
        food_only -> Bool,
        number_prefix -> Nullable<Text>,
        note -> Nullable<Text>,
        notes -> Nullable<Text>,
        confidence -> Nullable<Text>,
        renewal_window_days -> Nullable<Integer>,
    }
}

diesel::table! {
    certification_bodies (id) {
        id -> Text,
        key -> Text,
        name_zh -> Text,
        name_en -> Text,
        abbreviation -> Nullable<Text>,
        approval_number -> Nullable<Text>,
        kinds -> Text,
        website -> Nullable<Text>,
        notes -> Nullable<Text>,
        confidence -> Nullable<Text>,
    }
}

diesel::table! {
    geographical_indications (id) {
        id -> Text,
        key -> Text,
        name_zh -> Text,
        name_en -> Text,
        system -> Text,
        product_category -> Text,
        announcement -> Nullable<Text>,
        defining_standard_code -> Nullable<Text>,
        notes -> Nullable<Text>,
        confidence -> Nullable<Text>,
    }
}

diesel::table! {
    gi_protected_areas (gi_id, region_code) {
        gi_id -> Text,
        region_code -> Text,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        kind -> Text,
        enterprise_id -> Text,
        product_id -> Nullable<Text>,
        geographical_indication_id -> Nullable<Text>,
        details -> Text,
        documents -> Text,
        state -> Text,
        agency_code -> Text,
        assigned_regulator_id -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        notice_ends_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        record_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    application_events (id) {
        id -> Text,
        application_id -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        actor_id -> Nullable<Text>,
        actor_label -> Text,
        reason -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    objections (id) {
        id -> Text,
        application_id -> Text,
        name -> Text,
        contact -> Text,
        text -> Text,
        status -> Text,
        resolution_reason -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    certifications (id) {
        id -> Text,
        application_id -> Nullable<Text>,
        kind -> Text,
        enterprise_id -> Text,
        product_id -> Text,
        certificate_number -> Text,
        certification_body_id -> Nullable<Text>,
        scope -> Text,
        issued_on -> Date,
        expires_on -> Date,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        certified -> Text,
        expiry_published -> Bool,
    }
}

diesel::table! {
    designations (id) {
        id -> Text,
        application_id -> Nullable<Text>,
        kind -> Text,
        enterprise_id -> Text,
        product_id -> Nullable<Text>,
        geographical_indication_id -> Nullable<Text>,
        number -> Text,
        granted_year -> Integer,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        certified -> Text,
        expiry_published -> Bool,
    }
}

diesel::table! {
    record_status_changes (id) {
        id -> Text,
        record_type -> Text,
        record_id -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        actor_label -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        contact -> Text,
        key_prefix -> Text,
        key_hash -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        purpose -> Text,
        quota_per_min -> Nullable<Integer>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        client_id -> Text,
        url -> Text,
        secret -> Text,
        event_types -> Text,
        enterprise_id -> Nullable<Text>,
        product_id -> Nullable<Text>,
        kind -> Nullable<Text>,
        cursor -> BigInt,
        status -> Text,
        paused_reason -> Nullable<Text>,
        failures -> Integer,
        failing_since -> Nullable<Timestamp>,
        next_attempt_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        seq -> BigInt,
        event_type -> Text,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        succeeded -> Bool,
        duration_ms -> Integer,
        at -> Timestamp,
    }
}

diesel::table! {
    credit_listings (id) {
        id -> Text,
        enterprise_id -> Text,
        reason -> Text,
        legal_basis -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        agency_code -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
        removal_reason -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    spot_checks (id) {
        id -> Text,
        agency_code -> Text,
        title -> Text,
        legal_basis -> Text,
        target_type -> Text,
        scope -> Text,
        sample_size -> Integer,
        inspector_pool -> Text,
        seed_commitment -> Text,
        seed -> Text,
        state -> Text,
        candidate_count -> Nullable<Integer>,
        created_by -> Text,
        created_at -> Timestamp,
        drawn_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        version -> Integer,
    }
}

diesel::table! {
    spot_check_candidates (spot_check_id, candidate_id) {
        spot_check_id -> Text,
        candidate_id -> Text,
    }
}

diesel::table! {
    spot_check_targets (spot_check_id, target_id) {
        spot_check_id -> Text,
        target_id -> Text,
        enterprise_id -> Text,
        score -> Text,
        inspectors -> Text,
        recusals -> Text,
        result -> Nullable<Text>,
        findings -> Nullable<Text>,
        checked_on -> Nullable<Date>,
        recorded_by -> Nullable<Text>,
        recorded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inspector_conflicts (inspector_id, enterprise_id) {
        inspector_id -> Text,
        enterprise_id -> Text,
        reason -> Text,
        declared_at -> Timestamp,
    }
}

diesel::table! {
    renewals (application_id) {
        application_id -> Text,
        record_type -> Text,
        renews_id -> Text,
        successor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(credit_listings -> enterprises (enterprise_id));
diesel::joinable!(webhooks -> api_clients (client_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(spot_check_targets -> spot_checks (spot_check_id));
diesel::joinable!(gi_protected_areas -> geographical_indications (gi_id));
diesel::joinable!(application_events -> applications (application_id));
diesel::joinable!(objections -> applications (application_id));
diesel::joinable!(certifications -> products (product_id));
diesel::joinable!(certifications -> enterprises (enterprise_id));
diesel::joinable!(designations -> enterprises (enterprise_id));
diesel::joinable!(designations -> products (product_id));

diesel::table! {
    audit_checkpoints (seq) {
        seq -> BigInt,
        entry_hash -> Text,
        signed_at -> Timestamp,
        key_id -> Text,
        signature -> Text,
    }
}

diesel::table! {
    signing_keys (key_id) {
        key_id -> Text,
        public_key -> Text,
        first_used -> Timestamp,
    }
}

diesel::table! {
    publications (seq) {
        seq -> BigInt,
        entity_type -> Text,
        entity_id -> Text,
        action -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    enterprise_identity_changes (id) {
        id -> Text,
        enterprise_id -> Text,
        name -> Nullable<Text>,
        uscc -> Nullable<Text>,
        legal_representative -> Nullable<Text>,
        region_code -> Nullable<Text>,
        state -> Text,
        requested_by -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        version -> Integer,
    }
}

diesel::joinable!(enterprise_identity_changes -> enterprises (enterprise_id));

diesel::table! {
    import_jobs (id) {
        id -> Text,
        kind -> Text,
        status -> Text,
        created_by -> Nullable<Text>,
        agency_code -> Nullable<Text>,
        enterprise_id -> Nullable<Text>,
        file_name -> Nullable<Text>,
        total_rows -> Integer,
        processed_rows -> Integer,
        created_count -> Integer,
        unchanged_count -> Integer,
        error_count -> Integer,
        report -> Nullable<Text>,
        failure -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

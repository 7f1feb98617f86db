//! HTTP handlers, one module per resource. Each is thin: it extracts the caller and the
//! request, parses the request into a command, calls the use case in `app`, and turns
//! the result into a view. Shared HTTP pieces (paging, extraction, shared views) are in
//! `http`; no route module imports another.

pub mod admin_merchants;
pub mod admission;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod beneficiaries;
pub mod cards;
pub mod complaints;
pub mod console;
pub mod evaluation;
pub mod exports;
pub mod health;
pub mod holder;
pub mod inspections;
pub mod merchants;
pub mod needs;
pub mod offers;
pub mod pos;
pub mod profile;
pub mod regions;
pub mod stats;
pub mod targets;
pub mod tasks;
pub mod terminals;
pub mod users;

/// Registers every `/api/v1` route; each handler carries its OpenAPI description.
pub fn api_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // The till's two calls first: the router tries resources in order and matches each
    // pattern with a path parameter by regex, so a route at the end of this list pays
    // for every pattern before it (9 % of a warm verification's CPU when it was there).
    cfg.service(pos::verify)
        .service(pos::redeem)
        .service(auth::login)
        .service(regions::list_regions)
        .service(regions::get_region)
        // the public directory
        .service(merchants::apply)
        .service(merchants::directory)
        .service(merchants::get_merchant)
        .service(merchants::public_notices)
        .service(merchants::file_objection)
        .service(profile::get_profile)
        .service(profile::update_profile)
        // admission and exit
        .service(admin_merchants::list_merchants)
        .service(admin_merchants::get_merchant)
        .service(admin_merchants::correct_registration)
        .service(admission::record_review)
        .service(admission::approve)
        .service(admission::reject)
        .service(admission::resolve_objection)
        .service(admission::activate)
        .service(admission::renew)
        .service(admission::suspend)
        .service(admission::reinstate)
        .service(admission::revoke)
        .service(admin_merchants::create_staff)
        .service(admin_merchants::emergency_roster)
        .service(audit::audit_log)
        // needs, resources and the joint task list
        .service(needs::post_need)
        .service(needs::list_needs)
        .service(needs::get_need)
        .service(needs::set_need_status)
        .service(needs::offer_resource)
        .service(needs::own_resources)
        .service(needs::record_resource)
        .service(needs::list_resources)
        .service(tasks::create_task)
        .service(tasks::list_tasks)
        .service(tasks::get_task)
        .service(tasks::add_note)
        .service(tasks::set_task_status)
        .service(tasks::complete_task)
        .service(tasks::list_projects)
        // beneficiaries and cards
        .service(beneficiaries::import)
        .service(beneficiaries::create)
        .service(beneficiaries::list)
        .service(beneficiaries::get)
        .service(beneficiaries::update)
        .service(cards::list_products)
        .service(cards::create_product)
        .service(cards::issue)
        .service(cards::list)
        .service(cards::get)
        .service(cards::suspend)
        .service(cards::reinstate)
        .service(cards::revoke)
        .service(cards::reissue)
        // holders
        .service(holder::activate)
        .service(holder::refresh)
        .service(holder::holder_card)
        // offers and the point of sale
        .service(offers::create)
        .service(offers::list_own)
        .service(offers::update)
        .service(offers::pause)
        .service(offers::resume)
        .service(offers::end)
        .service(offers::office_queue)
        .service(offers::approve)
        .service(offers::reject)
        .service(offers::public_list)
        .service(offers::holder_list)
        .service(terminals::create_terminal)
        .service(terminals::list_terminals)
        .service(terminals::delete_terminal)
        .service(terminals::card_qr)
        .service(pos::void)
        .service(pos::merchant_redemptions)
        .service(pos::holder_redemptions)
        .service(pos::revocations)
        .service(terminals::terminal_profile)
        // oversight
        .service(stats::stats)
        .service(targets::get_targets)
        .service(targets::put_targets)
        .service(exports::export)
        .service(complaints::file_complaint)
        .service(complaints::list_complaints)
        .service(complaints::resolve_complaint)
        .service(admin_merchants::exit_review)
        .service(evaluation::evaluation)
        .service(inspections::create_inspection)
        .service(inspections::list_inspections)
        .service(inspections::get_inspection)
        .service(inspections::record_results)
        // staff accounts
        .service(users::create_user)
        .service(users::list_users)
        .service(users::get_user);
}

/// Routes outside `/api/v1`: operations and the contract.
pub fn root(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(health::openapi_yaml)
        .service(terminals::jwks);
}

//! The OpenAPI document, generated from the handlers' annotations.
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "hirelay", description = "Webhook-and-rules automation for recruiting teams. The integration contract (webhooks, signatures, the BizReach-compatible source API, the script API) is docs/contract.md in the repository; configuration and operation are in README.md."),
    paths(
        super::webhooks::bizreach,
        super::webhooks::ats,
        super::webhooks::career_relay,
        super::events::list,
        super::events::get,
        super::events::replay_one,
        super::events::replay_many,
        super::relay::track,
        super::relay::unsubscribe_page,
        super::relay::unsubscribe,
        super::career_relay::ledger,
        super::career_relay::funnel,
        super::career_relay::export_csv,
        super::career_relay::attributes,
        super::career_relay::report,
        super::kpis::totals,
        super::kpis::records_csv,
        super::templates::list,
        super::templates::get,
        super::templates::put,
        super::templates::versions,
        super::templates::version,
        super::templates::rollback,
        super::templates::preview,
        super::templates::test_send,
        super::rules::list,
        super::rules::get,
        super::rules::put,
        super::rules::versions,
        super::rules::version,
        super::rules::check,
        super::rules::rollback,
        super::rules::dry_run,
        super::applications::find,
        super::applications::get,
        super::group_accounts::sign_in,
        super::group_accounts::list,
        super::group_accounts::link,
        super::group_accounts::suspend,
        super::group_accounts::resume,
        super::group_accounts::progress_sync,
        super::group_accounts::backfill,
        super::progress_sync::preview,
        super::link_approvals::show,
        super::link_approvals::activate,
        super::scheduler::run,
        super::jobs::list,
        super::jobs::create,
        super::jobs::rename,
        super::routing::list,
        super::routing::create,
        super::routing::delete,
        super::imports::list,
        super::imports::route,
        super::webhook_subscriptions::list,
        super::webhook_subscriptions::create,
        super::webhook_subscriptions::delete,
        super::webhook_deliveries::list,
        super::outbox::list,
        super::outbox::cancel,
        super::invitations::list,
        super::opt_outs::list,
        super::opt_outs::record,
        super::opt_outs::withdraw,
        super::opt_outs::list_consents,
        super::opt_outs::record_consent,
        super::candidates::erase,
        super::candidates::erase_by_address,
        super::candidates::export,
        super::notifications::get,
        super::notifications::put,
        super::audit::list,
        super::session::sign_in,
        super::session::current,
        super::session::sign_out,
        super::session::change_password,
        super::session::accept_invitation,
        super::users::list,
        super::users::create,
        super::users::update,
        super::tokens::list,
        super::tokens::create,
        super::tokens::revoke,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

/// The roles, as `domain::role` grants them (issue 18).
const ROLES: &str = "An API token (`hirelay token create --role ROLE`), or a console \
    session: the `hirelay_session` cookie set by `POST /v1/session`, with which every POST, PUT, \
    PATCH and DELETE also needs the header `X-CSRF-Token` (403 `csrf_token_invalid` otherwise). Roles are not ranked: \
    `admin` may use everything; `viewer` reads applications and \
    the KPIs with candidates as pseudonymous ids only (no names, addresses or phones); `marketer` the email templates and the outbox (addresses by domain); `integrator` the outbound webhook subscriptions and \
    deliveries, and, when its token is bound to a source (`--source ats|bizreach|career_relay`), that source's events (read, replay: \
    another source's event is 404) and the subscriptions that source's tokens made; any role its own notification subscription. No token or a wrong, revoked or \
    expired one: 401 with `WWW-Authenticate: Bearer`; a role the operation does not admit: 403; \
    10 failed authentications within a minute from one address: 429 with `Retry-After`.";

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(ROLES))
                    .build(),
            ),
        );
    }
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

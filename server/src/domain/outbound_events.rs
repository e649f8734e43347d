//! The outbound webhook event types a subscriber (an ATS, a BI tool) may choose (C4: the ATS
//! learns the candidate-side statuses too).

pub const APPLICATION_ROUTED: &str = "application.routed";
pub const APPLICATION_LABELED: &str = "application.labeled";
/// A status progress sync wrote to BizReach.
pub const STATUS_SYNCED: &str = "application.status_synced";
/// A Career Relay invitation was planned for a rejected application (sent at its `send_at`).
pub const CAREER_RELAY_INVITED: &str = "career_relay.invited";
/// The candidate first followed the invitation's link.
pub const CAREER_RELAY_CLICKED: &str = "career_relay.clicked";
/// The candidate registered with Career Relay.
pub const CAREER_RELAY_REGISTERED: &str = "career_relay.registered";
/// A registration completed a free referral slot (C1).
pub const CAREER_RELAY_SLOT_EARNED: &str = "career_relay.slot_earned";

/// Every type one can subscribe to, and so every type a script's `webhook()` may send.
pub const OUTBOUND_EVENT_TYPES: &[&str] = &[
    APPLICATION_ROUTED,
    APPLICATION_LABELED,
    STATUS_SYNCED,
    CAREER_RELAY_INVITED,
    CAREER_RELAY_CLICKED,
    CAREER_RELAY_REGISTERED,
    CAREER_RELAY_SLOT_EARNED,
];

//! Domain types and rules of lunas.
//!
//! This crate knows nothing about IO, async runtimes, SQL or HTTP, and it never reads the clock:
//! every rule that depends on time takes the current time as an argument. Raw strings from the
//! outside world are parsed into the types here (`Phone`, `Sku`, `Money`, `PayWindow`) at the edge,
//! so code further in never handles an unchecked value.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod business_hours;
pub mod catalog;
pub mod clv;
pub mod conversations;
pub mod customers;
pub mod events;
pub mod export;
pub mod faq;
pub mod format_order;
pub mod fulfilment;
pub mod import;
pub mod ledger;
pub mod messages;
pub mod money;
pub mod order;
pub mod outbox;
pub mod payments;
pub mod phone;
pub mod placing;
pub mod proofs;
pub mod queries;
pub mod reliability;
pub mod reminders;
pub mod returns;
pub mod settings;
pub mod shipping;
pub mod signals;
pub mod simulate;
pub mod sku;
pub mod statement;
pub mod time;
pub mod timers;
pub mod waitlist;

pub use audit::AuditAction;
pub use money::{Currency, Money, MoneyError};
pub use order::{
    Actor, CancelledBy, CustomerInfo, ExtendError, HoldState, Honorific, Order, OrderEvent,
    OrderId, OrderItem, OrderStatus, PaymentDecision, PaymentMethod, PaymentRecord, Quantity,
    TransitionError,
};
pub use phone::{Phone, PhoneError};
pub use settings::{PaymentWindows, Settings, SettingsError, SettingsPatch};
pub use sku::{Sku, SkuError};
pub use time::{PayWindow, PayWindowError};

/// Time as lunas stores it: an instant in UTC. Shown in the store's time zone at the edges.
pub type Timestamp = jiff::Timestamp;

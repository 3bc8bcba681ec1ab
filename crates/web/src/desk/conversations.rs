//! *Percakapan*: the buyers who wrote, who is waiting and for how long, one buyer's conversation
//! with the FAQ bot's suggestions and a reply box; and *FAQ*: the entries the bot answers from,
//! with a box to try a question.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lunas_core::Phone;
use lunas_core::conversations::{
    AnsweredBy, ConversationSummary, Direction, FaqState, InquiryState, ReplyChannel,
};
use lunas_core::faq::FaqEntry;
use minijinja::{Value, context};
use serde::Deserialize;

use super::pages::{Query_, engine_err, phone_path};
use super::{Desk, FieldErrors, PageError, Posted, done, notice, refusal, ser};
use crate::ApiError;

/// Conversations one page of the list shows, and how many Today looks through for waiting
/// buyers.
const LIST_LEN: usize = 50;
pub(crate) const WAITING_SCAN: usize = 200;

/// A wait in business minutes as staff read it ("12 menit", "2 jam 5 menit").
pub(crate) fn wait_words(desk: &Desk, minutes: i64) -> String {
    let strings = desk.strings();
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m} {}", strings.get("an_minutes")),
        (h, 0) => format!("{h} {}", strings.get("an_hours")),
        (h, m) => format!(
            "{h} {} {m} {}",
            strings.get("an_hours"),
            strings.get("an_minutes")
        ),
    }
}

/// The buyers waiting for an answer as Today and the list show them, longest first; `alert`
/// when the wait passed the shop's setting.
pub(crate) async fn waiting_rows(desk: &Desk) -> Result<Vec<Value>, PageError> {
    let engine = &desk.state.engine;
    let alert_after = i64::from(engine.settings().conversations.waiting_alert_minutes);
    let waiting = engine
        .waiting_buyers(WAITING_SCAN)
        .await
        .map_err(engine_err)?;
    Ok(waiting
        .into_iter()
        .map(|(c, minutes)| {
            context! {
                who => c.name.clone().unwrap_or_else(|| c.phone.international()),
                phone_path => phone_path(&c.phone),
                text => c.last_text.as_deref().map(|t| super::pages::shorten(t, 80)),
                wait => wait_words(desk, minutes),
                alert => minutes >= alert_after,
            }
        })
        .collect())
}

fn summary_row(desk: &Desk, c: &ConversationSummary, minutes: Option<i64>) -> Value {
    let settings = desk.state.engine.settings();
    let state = c.state(
        desk.state.engine.now(),
        settings.conversations.ghosted_after_days,
    );
    context! {
        who => c.name.clone().unwrap_or_else(|| c.phone.international()),
        phone => c.phone.international(),
        phone_path => phone_path(&c.phone),
        text => c.last_text.as_deref().map(|t| super::pages::shorten(t, 80)),
        kind => c.last_kind.as_str(),
        when => desk.when(c.last_at),
        state => match state {
            InquiryState::Open => "open",
            InquiryState::Ordered => "ordered",
            InquiryState::Ghosted => "ghosted",
        },
        order_id => c.order_id,
        wait => minutes.map(|m| wait_words(desk, m)),
        alert => minutes.is_some_and(|m| m >= i64::from(settings.conversations.waiting_alert_minutes)),
    }
}

/// `GET /conversations`: who wrote, newest first; `?waiting=1` only who waits, longest first.
pub(crate) async fn conversations(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let waiting_only = query.get("waiting").is_some_and(|w| w == "1");
    let before = query
        .get("before")
        .and_then(|b| b.parse::<lunas_core::Timestamp>().ok());
    let settings = engine.settings();
    let (now, tz) = (engine.now(), settings.time_zone());
    let rows: Vec<Value>;
    let mut next = None;
    if waiting_only {
        let waiting = engine
            .waiting_buyers(WAITING_SCAN)
            .await
            .map_err(engine_err)?;
        rows = waiting
            .iter()
            .map(|(c, m)| summary_row(&desk, c, Some(*m)))
            .collect();
    } else {
        let found = engine
            .conversations(before, LIST_LEN)
            .await
            .map_err(engine_err)?;
        if found.len() == LIST_LEN {
            next = found.last().map(|c| {
                format!(
                    "/conversations?{}",
                    super::pages::url_params(&[("before", &c.last_at.to_string())])
                )
            });
        }
        rows = found
            .iter()
            .map(|c| {
                let minutes = c
                    .waiting_since
                    .map(|since| settings.business_hours.between(since, now, &tz).as_mins());
                summary_row(&desk, c, minutes)
            })
            .collect();
    }
    desk.page(
        "conversations.html",
        "conversations",
        context! {
            rows => rows,
            waiting_only => waiting_only,
            next => next,
            alert_minutes => settings.conversations.waiting_alert_minutes,
            errors => ser(FieldErrors::new()),
            values => ser(std::collections::BTreeMap::<&str, &str>::new()),
        },
    )
}

fn parse_phone(desk: &Desk, raw: &str) -> Result<Phone, PageError> {
    Phone::parse(raw).map_err(|_| PageError::NotFound(desk.language()))
}

async fn conversation_page(
    desk: &Desk,
    phone: &Phone,
    status: StatusCode,
    errors: FieldErrors,
    typed: Option<&str>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let messages = engine
        .conversation(phone.clone())
        .await
        .map_err(engine_err)?;
    let entries = engine.faq_entries().await.map_err(engine_err)?;
    let mut prefill = typed.map(str::to_owned);
    let mut rows = Vec::with_capacity(messages.len());
    for m in &messages {
        let suggestion = match (&m.faq, m.inbound_id) {
            (Some(note), Some(id)) => {
                let entry = entries.iter().find(|e| e.id == note.faq_id);
                let open = matches!(note.state, FaqState::Suggested | FaqState::Corrected);
                let answer = if open {
                    engine
                        .answer_for(&note.faq_id, m.text.as_deref().unwrap_or(""))
                        .await
                        .map_err(engine_err)?
                } else {
                    None
                };
                if open && prefill.is_none() {
                    prefill = answer.clone();
                }
                Some(context! {
                    id => id,
                    faq_id => &note.faq_id,
                    question => entry.and_then(|e| e.questions.first().cloned()),
                    answer => answer,
                    state => note.state.as_str(),
                    open => open,
                    score => note.score_milli / 10,
                })
            }
            _ => None,
        };
        // A format order sent by chat: a draft for staff to confirm on the new-order form (with
        // the buyer's number when the message does not say it).
        let order = match (&m.text, m.direction) {
            (Some(text), Direction::In) => engine
                .chat_order(text)
                .await
                .map_err(engine_err)?
                .map(|draft| {
                    let paste = match draft.customer.phone {
                        Some(_) => text.clone(),
                        None => format!("{text}\nHP: {}", phone.international()),
                    };
                    context! {
                        paste => paste,
                        name => draft.customer.name,
                        items => draft.items.iter().filter(|i| i.sku.is_some()).map(|i| format!("{} × {}", i.qty, i.text)).collect::<Vec<_>>(),
                    }
                }),
            _ => None,
        };
        rows.push(context! {
            order => order,
            out => m.direction == Direction::Out,
            text => &m.text,
            kind => &m.kind,
            when => desk.when(m.at),
            by => m.answered_by.map(AnsweredBy::as_str),
            inbound_id => m.inbound_id,
            delivery => m.delivery.map(|d| d.as_str()),
            suggestion => suggestion,
        });
    }
    let name = engine
        .assess(phone)
        .await
        .map_err(engine_err)?
        .0
        .map(|p| p.info.name);
    let signals = engine.chat_signals(phone).await.map_err(engine_err)?;
    let faq_options: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e.id.clone(),
                super::pages::shorten(e.questions.first().map_or("", String::as_str), 60),
            )
        })
        .collect();
    desk.page_with_status(
        status,
        "conversation.html",
        "conversations",
        context! {
            notice => notice,
            phone => phone.international(),
            phone_path => phone_path(phone),
            name => name,
            messages => rows,
            errors => ser(&errors),
            prefill => prefill.unwrap_or_default(),
            through_whatsapp => engine.replies_through_whatsapp(),
            faq_options => faq_options,
            signals => signals_words(desk, &signals),
        },
    )
}

/// A number's tire-kicker signals in one sentence, and whether they add up to one.
pub(crate) fn signals_words(desk: &Desk, s: &lunas_core::signals::ChatSignals) -> Value {
    let strings = desk.strings();
    let text = strings
        .get("conv_signals")
        .replace("{messages}", &s.messages.to_string())
        .replace("{days}", &s.days.to_string())
        .replace("{haggles}", &s.haggles.to_string())
        .replace("{placed}", &s.orders_placed.to_string())
        .replace("{paid}", &s.orders_paid.to_string());
    context! { text => text, tire_kicker => s.tire_kicker, any => s.messages > 0 }
}

/// `GET /conversations/{phone}`.
pub(crate) async fn conversation(
    desk: Desk,
    Path(phone): Path<String>,
    Query(query): Query_,
) -> Result<Response, PageError> {
    let phone = parse_phone(&desk, &phone)?;
    let notice = notice(desk.strings(), &query);
    conversation_page(
        &desk,
        &phone,
        StatusCode::OK,
        FieldErrors::new(),
        None,
        notice,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplyForm {
    text: String,
    /// `whatsapp` (or a `wa.me` link without it) or `logged`.
    how: String,
}

/// `POST /conversations/{phone}/reply`: staff answer; without WhatsApp connected, the reply is
/// recorded and WhatsApp opens with the text written in.
pub(crate) async fn reply(
    Path(phone): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let phone = parse_phone(&desk, &phone)?;
    let typed: ReplyForm = form.parse()?;
    let channel = if typed.how == "logged" {
        ReplyChannel::Logged
    } else {
        ReplyChannel::Whatsapp
    };
    let back = format!("/conversations/{}", phone_path(&phone));
    match desk
        .state
        .engine
        .reply(phone.clone(), &typed.text, channel, None, desk.actor())
        .await
    {
        Ok(lunas_engine::faq::Replied::OpenLink(url)) => Ok(Redirect::to(&url).into_response()),
        Ok(lunas_engine::faq::Replied::Logged) => Ok(done(&back, "logged")),
        Ok(_) => Ok(done(&back, "replied")),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            conversation_page(
                &desk,
                &phone,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from([("text", message)]),
                Some(&typed.text),
                None,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogForm {
    #[serde(rename = "log_phone")]
    phone: String,
    #[serde(rename = "log_text")]
    text: String,
}

/// `POST /conversations/log`: a buyer's message staff received elsewhere, written down.
pub(crate) async fn log(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: LogForm = form.parse()?;
    let strings = desk.strings();
    let phone = match Phone::parse(&typed.phone) {
        Ok(phone) => phone,
        Err(_) => {
            let errors =
                FieldErrors::from([("log_phone", strings.get("code_invalid_phone").to_owned())]);
            return list_with_errors(&desk, errors, &typed).await;
        }
    };
    match desk
        .state
        .engine
        .log_inbound(phone.clone(), &typed.text)
        .await
    {
        Ok(()) => Ok(done(
            &format!("/conversations/{}", phone_path(&phone)),
            "saved",
        )),
        Err(lunas_engine::Error::Faq(_)) => {
            let errors =
                FieldErrors::from([("log_text", strings.get("conv_log_text_error").to_owned())]);
            list_with_errors(&desk, errors, &typed).await
        }
        Err(e) => Err(engine_err(e)),
    }
}

async fn list_with_errors(
    desk: &Desk,
    errors: FieldErrors,
    typed: &LogForm,
) -> Result<Response, PageError> {
    let values = std::collections::BTreeMap::from([
        ("log_phone", typed.phone.as_str()),
        ("log_text", typed.text.as_str()),
    ]);
    let engine = &desk.state.engine;
    let found = engine
        .conversations(None, LIST_LEN)
        .await
        .map_err(engine_err)?;
    let rows: Vec<Value> = found.iter().map(|c| summary_row(desk, c, None)).collect();
    desk.page_with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "conversations.html",
        "conversations",
        context! {
            rows => rows,
            waiting_only => false,
            next => Option::<String>::None,
            errors => ser(&errors),
            values => ser(&values),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SuggestionForm {
    /// For a correction: the entry that answers the message.
    faq_id: String,
}

/// `POST /conversations/{phone}/messages/{id}/{action}`: send the bot's suggestion (`accept`),
/// set it aside (`dismiss`), or name the entry that answers the message (`correct`).
pub(crate) async fn suggestion(
    Path((phone, id, action)): Path<(String, i64, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let phone = parse_phone(&desk, &phone)?;
    let typed: SuggestionForm = form.parse()?;
    let engine = &desk.state.engine;
    let back = format!("/conversations/{}", phone_path(&phone));
    let result = match action.as_str() {
        "accept" => engine
            .accept_suggestion(id, desk.actor())
            .await
            .map(|r| match r {
                lunas_engine::faq::Replied::OpenLink(url) => Some(url),
                _ => None,
            }),
        "dismiss" => engine.dismiss_suggestion(id).await.map(|()| None),
        "correct" => engine.correct_match(id, &typed.faq_id).await.map(|()| None),
        _ => return Err(PageError::NotFound(desk.language())),
    };
    match result {
        Ok(Some(url)) => Ok(Redirect::to(&url).into_response()),
        Ok(None) => Ok(done(
            &back,
            if action == "correct" {
                "faq_learned"
            } else {
                "saved"
            },
        )),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            conversation_page(
                &desk,
                &phone,
                StatusCode::CONFLICT,
                FieldErrors::from([("form", message)]),
                None,
                None,
            )
            .await
        }
    }
}

/// The FAQ page's entries, as forms.
fn entry_rows(entries: &[FaqEntry]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            context! {
                id => &e.id,
                questions => e.questions.join("\n"),
                answer => &e.answer,
                sku => e.sku.clone().unwrap_or_default(),
                first => e.questions.first(),
                count => e.questions.len(),
            }
        })
        .collect()
}

async fn faq_page(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    values: Option<std::collections::BTreeMap<&str, &str>>,
    tried: Option<Value>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let entries = engine.faq_entries().await.map_err(engine_err)?;
    let settings = engine.settings();
    desk.page_with_status(
        status,
        "faq.html",
        "conversations",
        context! {
            notice => notice,
            entries => entry_rows(&entries),
            errors => ser(&errors),
            values => ser(values.unwrap_or_default()),
            tried => tried,
            mode => match settings.conversations.faq_mode {
                lunas_core::conversations::FaqMode::Off => "off",
                lunas_core::conversations::FaqMode::Suggest => "suggest",
                lunas_core::conversations::FaqMode::Send => "send",
            },
            threshold => settings.conversations.faq_threshold_percent,
        },
    )
}

/// `GET /faq` (`?try=` matches a question the way a buyer's message is matched).
pub(crate) async fn faq(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let tried = match query.get("try").map(|t| t.trim()).filter(|t| !t.is_empty()) {
        Some(text) => {
            let text: String = text
                .chars()
                .take(lunas_core::conversations::TEXT_CHARS_MAX)
                .collect();
            let found = desk
                .state
                .engine
                .match_faq(&text)
                .await
                .map_err(engine_err)?;
            Some(context! {
                text => text,
                faq_id => found.faq_id,
                best_id => found.best_id,
                answer => found.answer,
                score => (found.score * 100.0).round() as i64,
            })
        }
        None => None,
    };
    let notice = notice(desk.strings(), &query);
    faq_page(
        &desk,
        StatusCode::OK,
        FieldErrors::new(),
        None,
        tried,
        notice,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EntryForm {
    questions: String,
    answer: String,
    sku: String,
}

/// An id for a new entry: `faq-` and the next free number.
fn new_id(entries: &[FaqEntry]) -> String {
    let n = entries
        .iter()
        .filter_map(|e| e.id.strip_prefix("faq-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("faq-{}", n + 1)
}

/// `POST /faq` (a new entry) and `POST /faq/{id}` (an entry changed).
async fn save_entry(
    desk: Desk,
    form: super::FormData,
    id: Option<String>,
) -> Result<Response, PageError> {
    let typed: EntryForm = form.parse()?;
    let engine = &desk.state.engine;
    let editing = id.is_some();
    let id = match id {
        Some(id) => id,
        None => new_id(&engine.faq_entries().await.map_err(engine_err)?),
    };
    let entry = FaqEntry {
        id: id.clone(),
        questions: typed
            .questions
            .lines()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned)
            .collect(),
        answer: typed.answer,
        sku: Some(typed.sku.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    match engine.put_faq(entry).await {
        Ok(_) => Ok(done(&format!("/faq#faq-{id}"), "saved")),
        Err(lunas_engine::Error::Faq(e)) => {
            use lunas_core::faq::FaqError;
            let strings = desk.strings();
            let (field, message) = match &e {
                FaqError::EmptyQuestion(q) => (
                    "questions",
                    strings.get("faq_err_empty_question").replace("{q}", q),
                ),
                FaqError::BadAnswer => ("answer", strings.get("faq_err_answer").to_owned()),
                FaqError::UnknownPlaceholder(p) => (
                    "answer",
                    strings.get("faq_err_placeholder").replace("{p}", p),
                ),
                FaqError::UnknownSku(_) => ("sku", strings.get("faq_err_sku").to_owned()),
                FaqError::BadQuestions | FaqError::BadId => {
                    ("questions", strings.get("faq_err_questions").to_owned())
                }
                _ => (
                    "questions",
                    strings.error(&ApiError::from(lunas_engine::Error::Faq(e.clone()))),
                ),
            };
            let mut values = form.values();
            if editing {
                values.insert("editing", id.as_str());
            }
            faq_page(
                &desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from([(field, message)]),
                Some(values),
                None,
                None,
            )
            .await
        }
        Err(e) => Err(engine_err(e)),
    }
}

pub(crate) async fn add_entry(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    save_entry(desk, form, None).await
}

pub(crate) async fn edit_entry(
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    save_entry(desk, form, Some(id)).await
}

pub(crate) async fn delete_entry(
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, .. } = posted;
    match desk.state.engine.delete_faq(id).await {
        Ok(()) => Ok(done("/faq", "deleted")),
        Err(lunas_engine::Error::Faq(lunas_core::faq::FaqError::NotFound)) => {
            Err(PageError::NotFound(desk.language()))
        }
        Err(e) => Err(engine_err(e)),
    }
}

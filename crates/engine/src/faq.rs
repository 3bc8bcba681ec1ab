//! The FAQ bot and the shop's replies in a conversation: entries kept and indexed, a buyer's
//! message matched as it arrives (answered through WhatsApp, or suggested to staff), staff's
//! replies sent and recorded, suggestions accepted, set aside or corrected — a correction
//! becomes one of the entry's questions, so the next buyer who asks it that way is understood.

use std::sync::{Arc, OnceLock, RwLock};

use lunas_core::conversations::{AnsweredBy, FaqMode, FaqState, Reply, ReplyChannel};
use lunas_core::faq::{self, FaqEntry, FaqError, Index, ProductFacts};
use lunas_core::{Actor, Phone};

use crate::channels::whatsapp::WhatsAppChannel;
use crate::{Engine, Error};

/// How long the index is used before the entries are read again (another process may have
/// changed them).
const BOOK_TTL_MS: i64 = 30_000;

/// The entries, their index, and the WhatsApp sender replies go out through.
#[derive(Default)]
pub(crate) struct Book {
    cache: RwLock<Option<(Arc<Indexed>, i64)>>,
    whatsapp: OnceLock<Arc<WhatsAppChannel>>,
}

struct Indexed {
    entries: Vec<FaqEntry>,
    index: Index,
    /// The terms of the products' names: a product named in a message is what it is about.
    product_terms: std::collections::HashSet<String>,
}

/// What the matcher answers a text.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqAnswer {
    /// The entry, when its confidence reaches the shop's threshold.
    pub faq_id: Option<String>,
    /// The best entry's confidence (0..1), also below the threshold.
    pub score: f64,
    /// The entry's answer, its product's facts filled in.
    pub answer: Option<String>,
    /// The best entry, whatever its confidence.
    pub best_id: Option<String>,
}

/// What a staff reply did.
#[derive(Debug, Clone, PartialEq)]
pub enum Replied {
    /// Sent through the WhatsApp Cloud API.
    Sent,
    /// Recorded; staff send it from their phone with this `wa.me` link.
    OpenLink(String),
    /// Recorded as given elsewhere.
    Logged,
}

impl Engine {
    /// Replies and the FAQ bot send through this WhatsApp Cloud API sender.
    pub fn with_whatsapp_replies(self, channel: Arc<WhatsAppChannel>) -> Engine {
        let _ = self.faq.whatsapp.set(channel);
        self
    }

    pub async fn faq_entries(&self) -> Result<Vec<FaqEntry>, Error> {
        Ok(self.faq_book().await?.entries.clone())
    }

    /// Keeps an entry (a new one, or replacing the one of its id), checked; returns it and
    /// whether it is new.
    pub async fn put_faq(&self, entry: FaqEntry) -> Result<(FaqEntry, bool), Error> {
        let entry = entry.checked()?;
        if let Some(sku) = &entry.sku {
            let sku = lunas_core::Sku::parse(sku).map_err(|_| FaqError::UnknownSku(sku.clone()))?;
            if self.store.product(sku.clone()).await?.is_none() {
                return Err(FaqError::UnknownSku(sku.as_str().to_owned()).into());
            }
        }
        let book = self.faq_book().await?;
        if book.entries.len() >= faq::ENTRIES_MAX && !book.entries.iter().any(|e| e.id == entry.id)
        {
            return Err(FaqError::TooMany.into());
        }
        let created = self.store.put_faq(entry.clone(), self.now()).await?;
        self.forget_faq_book();
        Ok((entry, created))
    }

    pub async fn delete_faq(&self, id: String) -> Result<(), Error> {
        if !self.store.delete_faq(id).await? {
            return Err(FaqError::NotFound.into());
        }
        self.forget_faq_book();
        Ok(())
    }

    /// The best entry for a text, and its answer when the confidence reaches the threshold and
    /// the answer can be said (an answer about a product needs the entry's product, or one the
    /// text names).
    pub async fn match_faq(&self, text: &str) -> Result<FaqAnswer, Error> {
        let book = self.faq_book().await?;
        let Some(found) = book
            .index
            .best_with(text, |t| book.product_terms.contains(t))
        else {
            return Ok(FaqAnswer {
                faq_id: None,
                score: 0.0,
                answer: None,
                best_id: None,
            });
        };
        let entry = &book.entries[found.entry];
        let threshold = self.settings().conversations.threshold();
        let answer = if found.score >= threshold {
            self.render(entry, text).await?
        } else {
            None
        };
        Ok(FaqAnswer {
            faq_id: answer.as_ref().map(|_| entry.id.clone()),
            score: (found.score * 1000.0).round() / 1000.0,
            answer,
            best_id: Some(entry.id.clone()),
        })
    }

    /// What entry `faq_id` answers a buyer's message `text` (its product's facts filled in);
    /// `None` when it cannot be said.
    pub async fn answer_for(&self, faq_id: &str, text: &str) -> Result<Option<String>, Error> {
        let book = self.faq_book().await?;
        match book.entries.iter().find(|e| e.id == faq_id) {
            Some(entry) => self.render(entry, text).await,
            None => Ok(None),
        }
    }

    /// The entry's answer with its product's facts: the entry's own product, else the one the
    /// message names.
    async fn render(&self, entry: &FaqEntry, text: &str) -> Result<Option<String>, Error> {
        if !entry.needs_product() {
            return Ok(Some(entry.answer.clone()));
        }
        let sku = match &entry.sku {
            Some(sku) => lunas_core::Sku::parse(sku).ok(),
            None => self.product_named_in(text).await?,
        };
        let Some(sku) = sku else { return Ok(None) };
        let Some(product) = self.store.product(sku).await? else {
            return Ok(None);
        };
        let facts = ProductFacts {
            name: product.name.clone(),
            price: lunas_core::messages::format_rupiah(product.price.minor_units()),
            available: product.available,
        };
        Ok(faq::render_answer(&entry.answer, Some(&facts)))
    }

    /// A buyer's new text message, matched: above the threshold it is answered through WhatsApp
    /// (mode `send`, WhatsApp connected) or suggested to staff; below it waits for a person.
    pub(crate) async fn answer_inbound(
        &self,
        phone: Phone,
        source_id: &str,
        text: &str,
    ) -> Result<(), Error> {
        let settings = self.settings();
        if settings.conversations.faq_mode == FaqMode::Off {
            return Ok(());
        }
        let found = self.match_faq(text).await?;
        let (Some(faq_id), Some(answer)) = (found.faq_id, found.answer) else {
            return Ok(());
        };
        let score_milli = (found.score * 1000.0).round() as i64;
        let sender = self.faq.whatsapp.get();
        let state = match (settings.conversations.faq_mode, sender) {
            (FaqMode::Send, Some(sender)) => {
                let error = sender
                    .send_text(&phone, &answer, self.now())
                    .await
                    .err()
                    .map(|e| e.to_string());
                let sent = error.is_none();
                self.store
                    .add_reply(Reply {
                        phone: phone.clone(),
                        body: answer,
                        answered_by: AnsweredBy::Bot,
                        actor: "bot".into(),
                        faq_id: Some(faq_id.clone()),
                        channel: ReplyChannel::Whatsapp,
                        error,
                        at: self.now(),
                    })
                    .await?;
                if sent {
                    FaqState::Sent
                } else {
                    FaqState::Suggested
                }
            }
            _ => FaqState::Suggested,
        };
        self.store
            .note_faq_match(source_id.to_owned(), faq_id, score_milli, state)
            .await?;
        Ok(())
    }

    /// Staff answer a buyer: through WhatsApp when it is connected (and `channel` allows), else
    /// recorded and handed back as a `wa.me` link; `Logged` only records a reply given elsewhere.
    pub async fn reply(
        &self,
        phone: Phone,
        text: &str,
        channel: ReplyChannel,
        faq_id: Option<String>,
        actor: Actor,
    ) -> Result<Replied, Error> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > lunas_core::conversations::REPLY_CHARS_MAX {
            return Err(FaqError::BadReply.into());
        }
        let now = self.now();
        let (channel, error, replied) = match (channel, self.faq.whatsapp.get()) {
            (ReplyChannel::Whatsapp, Some(sender)) => {
                match sender.send_text(&phone, text, now).await {
                    Ok(()) => (ReplyChannel::Whatsapp, None, Replied::Sent),
                    Err(e) => (ReplyChannel::Whatsapp, Some(e.to_string()), Replied::Sent),
                }
            }
            (ReplyChannel::Logged, _) => (ReplyChannel::Logged, None, Replied::Logged),
            _ => (
                ReplyChannel::Link,
                None,
                Replied::OpenLink(wa_me(&phone, text)),
            ),
        };
        let failed = error.clone();
        self.store
            .add_reply(Reply {
                phone,
                body: text.to_owned(),
                answered_by: if faq_id.is_some() {
                    AnsweredBy::Bot
                } else {
                    AnsweredBy::Staff
                },
                actor: actor.as_str().to_owned(),
                faq_id,
                channel,
                error,
                at: now,
            })
            .await?;
        match failed {
            Some(e) => Err(FaqError::NotSent(e).into()),
            None => Ok(replied),
        }
    }

    /// Staff send the bot's suggested answer to a buyer's message.
    pub async fn accept_suggestion(&self, inbound_id: i64, actor: Actor) -> Result<Replied, Error> {
        let (phone, text, note) = self
            .store
            .inbound_message(inbound_id)
            .await?
            .ok_or(FaqError::NotFound)?;
        let note = note
            .filter(|n| matches!(n.state, FaqState::Suggested | FaqState::Corrected))
            .ok_or(FaqError::NothingToSettle)?;
        let book = self.faq_book().await?;
        let entry = book
            .entries
            .iter()
            .find(|e| e.id == note.faq_id)
            .ok_or(FaqError::NotFound)?;
        let answer = self
            .render(entry, text.as_deref().unwrap_or(""))
            .await?
            .ok_or(FaqError::NeedsProduct)?;
        let replied = self
            .reply(
                phone,
                &answer,
                ReplyChannel::Whatsapp,
                Some(entry.id.clone()),
                actor,
            )
            .await?;
        self.store
            .settle_faq(
                inbound_id,
                vec![FaqState::Suggested, FaqState::Corrected],
                FaqState::Accepted,
                None,
                self.now(),
            )
            .await?;
        Ok(replied)
    }

    /// Staff set the bot's suggestion aside (the buyer gets a person's answer instead).
    pub async fn dismiss_suggestion(&self, inbound_id: i64) -> Result<(), Error> {
        let settled = self
            .store
            .settle_faq(
                inbound_id,
                vec![FaqState::Suggested, FaqState::Corrected],
                FaqState::Dismissed,
                None,
                self.now(),
            )
            .await?;
        if !settled {
            return Err(FaqError::NothingToSettle.into());
        }
        Ok(())
    }

    /// Staff say which entry answers a buyer's message: the message becomes one of its
    /// questions (when it has words to match and the entry has room), and the entry's answer
    /// is suggested for it.
    pub async fn correct_match(&self, inbound_id: i64, faq_id: &str) -> Result<(), Error> {
        let (_, text, _) = self
            .store
            .inbound_message(inbound_id)
            .await?
            .ok_or(FaqError::NotFound)?;
        let book = self.faq_book().await?;
        let mut entry = book
            .entries
            .iter()
            .find(|e| e.id == faq_id)
            .cloned()
            .ok_or(FaqError::NotFound)?;
        if let Some(text) = text.map(|t| t.chars().take(faq::QUESTION_CHARS_MAX).collect())
            && entry.questions.len() < faq::QUESTIONS_MAX
        {
            let mut with = entry.clone();
            with.questions.push(text);
            // A message with no words to match (a greeting) corrects the state only.
            if let Ok(checked) = with.checked() {
                entry = checked;
            }
        }
        let settled = self
            .store
            .settle_faq(
                inbound_id,
                vec![
                    FaqState::Suggested,
                    FaqState::Sent,
                    FaqState::Dismissed,
                    FaqState::Corrected,
                ],
                FaqState::Corrected,
                Some(entry),
                self.now(),
            )
            .await?;
        if !settled {
            return Err(FaqError::NothingToSettle.into());
        }
        self.forget_faq_book();
        Ok(())
    }

    /// The product a buyer's message names, if one does clearly (by SKU or by name).
    async fn product_named_in(&self, text: &str) -> Result<Option<lunas_core::Sku>, Error> {
        let catalogue = self.format_catalogue().await?;
        Ok(catalogue.find(text).map(|(sku, _, _)| sku.clone()))
    }

    /// Whether replies go out through WhatsApp (else staff send them from a `wa.me` link).
    pub fn replies_through_whatsapp(&self) -> bool {
        self.faq.whatsapp.get().is_some()
    }

    async fn faq_book(&self) -> Result<Arc<Indexed>, Error> {
        let now_ms = self.now().as_millisecond();
        if let Some((book, read_at)) = &*self.faq.cache.read().expect("faq lock")
            && now_ms.saturating_sub(*read_at) < BOOK_TTL_MS
        {
            return Ok(book.clone());
        }
        let entries = self.store.faq_entries().await?;
        let index = Index::new(&entries);
        let product_terms = self
            .format_catalogue()
            .await?
            .names()
            .flat_map(faq::words::terms)
            .collect();
        let book = Arc::new(Indexed {
            entries,
            index,
            product_terms,
        });
        *self.faq.cache.write().expect("faq lock") = Some((book.clone(), now_ms));
        Ok(book)
    }

    fn forget_faq_book(&self) {
        *self.faq.cache.write().expect("faq lock") = None;
    }
}

/// A `wa.me` link that opens a chat with `phone`, the text written in.
pub fn wa_me(phone: &Phone, text: &str) -> String {
    format!(
        "https://wa.me/{}?text={}",
        phone.as_str().trim_start_matches('+'),
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
    )
}

//! What other systems use to reach a shop and hear from it: webhook endpoints and API tokens.

use lunas_core::Actor;

use crate::channels::webhooks;
use crate::{Engine, Error, tokens};

impl Engine {
    /// Registers a webhook endpoint (from the API or the dashboard), in the audit log as
    /// `actor`'s, and returns it with its signing secret, shown only now.
    pub async fn create_webhook(
        &self,
        url: &str,
        actor: Actor,
    ) -> Result<lunas_core::outbox::WebhookEndpoint, Error> {
        let url = webhooks::validate_url(url, self.webhooks_allow_private)?;
        let endpoint = lunas_core::outbox::WebhookEndpoint {
            id: format!("wh_{}", tokens::random_hex(8)),
            url: url.to_string(),
            secret: webhooks::new_secret(),
            created_at: self.now(),
        };
        self.store.create_webhook(endpoint.clone(), actor).await?;
        Ok(endpoint)
    }

    pub async fn webhooks(&self) -> Result<Vec<lunas_core::outbox::WebhookEndpoint>, Error> {
        Ok(self.store.webhooks().await?)
    }

    /// Deletes a webhook endpoint, in the audit log as `actor`'s; whether it existed.
    pub async fn delete_webhook(&self, id: String, actor: Actor) -> Result<bool, Error> {
        Ok(self.store.delete_webhook(id, actor, self.now()).await?)
    }

    /// The API tokens, by name (the owner's Staff page).
    pub async fn api_tokens(&self) -> Result<Vec<lunas_core::accounts::ApiToken>, Error> {
        Ok(tokens::list(&self.store).await?)
    }

    /// Revokes every token named `name`, at once in every process; how many there were.
    pub async fn revoke_api_token(&self, name: &str, actor: Actor) -> Result<u64, Error> {
        Ok(tokens::revoke(&self.store, name, actor, self.now()).await?)
    }

    /// The name of the API token `token`, if it is one, read from the database by a read that
    /// began after this call (so a revoked token is refused at once); requests with the same
    /// token that arrive together share one read (see `shared_reads`).
    pub async fn api_token_name(&self, token: &str) -> Result<Option<String>, Error> {
        let store = self.store.clone();
        let read = move |hash: String| {
            let store = store.clone();
            async move { store.api_token_name(hash).await }
        };
        Ok(self
            .token_reads
            .get(tokens::hash_token(token), read)
            .await?)
    }
}

-- Conversations (issue 20): what kind of message a buyer sent (text, a tapped button, a photo…);
-- the text kept is what it says (a caption, a button's title). Earlier rows were text.
ALTER TABLE inbound_messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';

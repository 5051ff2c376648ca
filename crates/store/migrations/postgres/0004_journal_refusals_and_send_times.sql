-- The order journal as the execution engine's journal port needs it (kestrel_exec::journal):
--
-- 1. A refusal may end an intent that was never sent (the engine's own validation refuses it
--    while it is pending), and a venue refusal may come without a numeric code (an HTTP error
--    without Binance's body). So a rejected intent no longer needs a reject_code: the code, when
--    the venue gave one, is kept; the answer (always stored for a resolved intent) says the rest.
-- 2. sent_ms: when the intent was last handed to the venue, the start of the venue's acceptance
--    window that recovery judges an absent order by. updated_ms cannot stand in for it once the
--    intent has been resolved. Intents journaled before this migration keep it only while they
--    are still sent (their last change was that send); for the others it is unknown (NULL).
--
-- The same logical schema as the SQLite migration of the same version.

-- The constraint was declared without a name in 0002; find it by what it says.
DO $$
DECLARE
    refused_without_code TEXT;
BEGIN
    SELECT conname INTO refused_without_code
    FROM pg_constraint
    WHERE conrelid = 'order_intents'::regclass
      AND contype = 'c'
      AND pg_get_constraintdef(oid) LIKE '%reject_code IS NOT NULL%';
    IF refused_without_code IS NOT NULL THEN
        EXECUTE format('ALTER TABLE order_intents DROP CONSTRAINT %I', refused_without_code);
    END IF;
END
$$;

-- When it was last handed to the venue (the last move to sent).
ALTER TABLE order_intents ADD COLUMN sent_ms BIGINT;
UPDATE order_intents SET sent_ms = updated_ms WHERE state = 'sent';
ALTER TABLE order_intents
    ADD CONSTRAINT order_intents_sent_has_send_time CHECK (state <> 'sent' OR sent_ms IS NOT NULL);

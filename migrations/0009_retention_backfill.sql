-- Referrals made before retention reviews existed get the policy's default
-- review date: six years after their last activity (their case's, if any,
-- else their submission), as a London date. New rows get theirs from the app.
UPDATE referrals r
SET review_due_on = ((coalesce(c.last_activity_at, r.submitted_at) AT TIME ZONE 'Europe/London')::date + interval '6 years')::date
FROM referrals r2
LEFT JOIN cases c ON c.referral_id = r2.id
WHERE r.id = r2.id AND r.review_due_on IS NULL;

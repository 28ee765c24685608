// A task's pending interruptions, answered in place: a manual intervention (Proceed / Abort, with
// notes) or guided failure (Fail, Retry, Ignore, Exclude machine from deployment — the buttons
// the interruption's own form offers). Answering takes responsibility first (PUT /responsible),
// then submits the form (POST /submit), as Octopus's portal does. A button the form marks
// RequiresConfirmation (Abort, Fail) asks once more in place: "Confirm Abort".
import { useState } from 'react';
import { api, messageOf } from '../../api/client';
import { ErrorMessage } from '../../components/Page';
import type { FormButton, InterruptionResource } from './types';

function Interruption({ item, onAnswered }: { item: InterruptionResource; onAnswered: () => void }) {
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState<{ name: string; button: FormButton }>();
  const notesId = `notes-${item.Id}`;

  const submit = async (name: string, value: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const base = `/api/interruptions/${encodeURIComponent(item.Id)}`;
      if (!item.HasResponsibility) await api.put(`${base}/responsible`);
      await api.post(`${base}/submit`, { Notes: notes, [name]: value });
      setConfirming(undefined);
      onAnswered();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const headingId = `interruption-${item.Id}`;
  return (
    <section className="interruption" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {item.Type === 'GuidedFailure' ? 'Guided failure: ' : 'Manual intervention: '}
        {item.Title}
      </h2>
      {item.Form.Elements.map((el) => {
        const c = el.Control;
        if (c.Type === 'Paragraph') return c.Text ? <p key={el.Name}>{c.Text}</p> : null;
        if (c.Type === 'TextArea')
          return (
            <div key={el.Name}>
              <label htmlFor={notesId}>{c.Label || el.Name}</label>
              <textarea id={notesId} value={notes} onChange={(e) => setNotes(e.target.value)} disabled={busy} />
            </div>
          );
        if (c.Type === 'SubmitButtonGroup')
          return (
            <div key={el.Name} className="buttons">
              {confirming ? (
                <>
                  <span>{`${confirming.button.Text}: are you sure?`}</span>
                  <button
                    type="button"
                    className="primary"
                    disabled={busy}
                    onClick={() => void submit(confirming.name, confirming.button.Value)}
                  >
                    {`Confirm ${confirming.button.Text}`}
                  </button>
                  <button type="button" disabled={busy} onClick={() => setConfirming(undefined)}>
                    Back
                  </button>
                </>
              ) : (
                (c.Buttons ?? []).map((b) => (
                  <button
                    key={b.Value}
                    type="button"
                    className={b.RequiresConfirmation ? undefined : 'primary'}
                    disabled={busy}
                    onClick={() => (b.RequiresConfirmation ? setConfirming({ name: el.Name, button: b }) : void submit(el.Name, b.Value))}
                  >
                    {b.Text}
                  </button>
                ))
              )}
            </div>
          );
        return null;
      })}
      <ErrorMessage error={error} />
    </section>
  );
}

export function Interruptions({ items, onAnswered }: { items: InterruptionResource[]; onAnswered: () => void }) {
  return (
    <>
      {items
        .filter((i) => i.IsPending)
        .map((i) => (
          <Interruption key={i.Id} item={i} onAnswered={onAnswered} />
        ))}
    </>
  );
}

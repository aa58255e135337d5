import { useState } from "react";

/**
 * A form's submit that calls the API once: busy while it runs, `done` after it succeeded, and
 * the message `failed` makes of an error (null when the form showed it by a field instead).
 */
export function useSubmit<V>(action: (values: V) => Promise<unknown>, failed: (error: unknown) => string | null) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(values: V) {
    setBusy(true);
    setDone(false);
    setError(null);
    try {
      await action(values);
      setDone(true);
    } catch (err) {
      setError(failed(err));
    } finally {
      setBusy(false);
    }
  }
  return { busy, done, error, submit: (values: V) => void run(values) };
}

import { useEffect, useRef } from "react";
import { useSearchParams } from "react-router-dom";

/**
 * A list's filters and page kept in the address (shareable, survive a reload): the query for
 * the API, and the setters the filter controls and the pager call.
 */
export function useListFilters<F extends string>(filters: readonly F[], pageSize: number) {
  const [params, setParams] = useSearchParams();
  // The data router applies a navigation a moment later: a second filter set before the first
  // one renders (Enter in the search, then a scope picked) must build on the first, not on the
  // address of the last render, or the first is lost (CI saw the search dropped this way).
  const pending = useRef<URLSearchParams | null>(null);
  useEffect(() => {
    if (pending.current?.toString() === params.toString()) pending.current = null;
  }, [params]);
  const page = Math.max(1, Number(params.get("page") ?? 1) || 1);
  const chosen: Partial<Record<F, string>> = {};
  for (const name of filters) {
    const value = params.get(name);
    if (value) chosen[name] = value;
  }
  const query = { ...chosen, limit: pageSize, offset: (page - 1) * pageSize };
  function update(change: (next: URLSearchParams) => void, replace = true) {
    const next = new URLSearchParams(pending.current ?? params);
    change(next);
    pending.current = next;
    setParams(next, { replace });
  }
  return {
    page,
    query,
    value: (name: F) => params.get(name),
    filtered: filters.some((name) => params.get(name)),
    filter: (name: F, value: string | null) => {
      update((next) => {
        if (value) next.set(name, value);
        else next.delete(name);
        next.delete("page");
      });
    },
    clear: () => {
      pending.current = new URLSearchParams();
      setParams({}, { replace: true });
    },
    setPage: (p: number) => {
      update((next) => {
        next.set("page", String(p));
      }, false);
    },
  };
}

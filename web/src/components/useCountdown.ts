import { useEffect, useState } from "react";

/** Seconds left until an instant, ticking every second (0 once it passed). */
export function useCountdown(until: string | null | undefined): number {
  const target = until ? new Date(until).getTime() : 0;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!target) return;
    const timer = setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      clearInterval(timer);
    };
  }, [target]);
  return target ? Math.max(0, Math.round((target - now) / 1000)) : 0;
}

export function mmss(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

import { useEffect, useRef, useState } from 'react';
import { formatRemaining, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

interface CountdownProps {
  readonly deadline: number;
  /** The server's clock when the view was made: the countdown runs on the server's time. */
  readonly serverNow: number;
}

/** Moments worth announcing to a screen reader; the visible clock ticks every second. */
const ANNOUNCE_AT = [300, 120, 60, 30, 10, 0];

/** Step 7's countdown to the deadline, announced through a live region at the moments that matter. */
export const Countdown = ({ deadline, serverNow }: CountdownProps) => {
  const { language, t } = useLanguage();
  const offset = useRef(serverNow - Date.now());
  offset.current = serverNow - Date.now();
  const [now, setNow] = useState(() => Date.now() + offset.current);
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now() + offset.current), 250);
    return () => clearInterval(timer);
  }, []);
  const remaining = Math.max(0, deadline - now);
  const seconds = Math.ceil(remaining / 1000);
  const text = fill(t.flow.countdown, { time: formatRemaining(remaining) });
  const lastAnnounced = useRef<number | null>(null);
  useEffect(() => {
    const mark = ANNOUNCE_AT.find(
      (s) => seconds <= s && (lastAnnounced.current === null || lastAnnounced.current > s),
    );
    if (mark !== undefined && lastAnnounced.current !== mark) {
      lastAnnounced.current = mark;
      setAnnouncement(text);
    } else if (lastAnnounced.current === null) {
      lastAnnounced.current = Number.POSITIVE_INFINITY;
      setAnnouncement(text);
    }
  }, [seconds, text]);
  return (
    <div className={`countdown${seconds <= 60 ? ' urgent' : ''}`} data-remaining={seconds}>
      <p role="timer" aria-live="off" className="clock">
        {text}
      </p>
      <p>{fill(t.flow.deadlineAt, { time: formatTime(deadline, language) })}</p>
      <p className="visually-hidden" aria-live="assertive" data-testid="countdown-announcement">
        {announcement}
      </p>
    </div>
  );
};

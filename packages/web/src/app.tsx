import type { CardNumber } from '@reservkort/domain';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AgentClient } from './api/agent-client.js';
import { setPageAddresses } from './api/page-addresses.js';
import { answer, client } from './api/server-client.js';
import type { FlowReservation, Me, PageConfig, TrainingDemo } from './api/views.js';
import { ErrorPanel } from './components/error-panel.js';
import { ExtensionAction } from './components/extension-wizard.js';
import { PracticeButton } from './components/practice-button.js';
import { ReadersPanel } from './components/readers-panel.js';
import { IssuanceDriver, type PageError, pageErrorOf } from './flow/issuance-driver.js';
import { currentUser, logout, reportLoginCardRemoval } from './flow/portal-session.js';
import { Workstation } from './flow/workstation.js';
import { useLanguage } from './i18n/language.js';
import { fill } from './i18n/ui-texts.js';
import { AdminPortal } from './screens/admin-portal.js';
import { CardToolsScreen } from './screens/card-tools-screen.js';
import { CatalogueScreen } from './screens/catalogue-screen.js';
import { HolderPages } from './screens/holder-pages.js';
import { InsightScreen } from './screens/insight-screen.js';
import { IssuancePortal } from './screens/issuance-portal.js';
import { LoginScreen } from './screens/login-screen.js';
import { ReplayScreen } from './screens/replay-screen.js';
import { ServiceDesk } from './screens/service-desk.js';
import { StationAdmin } from './screens/station-admin.js';
import { StockScreen } from './screens/stock-screen.js';
import { TrainingPanel } from './screens/training-panel.js';
import { PracticeSession } from './training/practice-session.js';
import { useSubscription } from './use-subscription.js';

type Route =
  | { readonly screen: 'issuance' }
  | { readonly screen: 'admin' }
  | { readonly screen: 'stations' }
  | { readonly screen: 'stock' }
  | { readonly screen: 'desk'; readonly caseId: string | null }
  | { readonly screen: 'catalogue'; readonly code: string | null }
  | { readonly screen: 'card' }
  | { readonly screen: 'holder' }
  | { readonly screen: 'insight'; readonly query: string }
  | { readonly screen: 'replay'; readonly kind: 'case' | 'flow'; readonly id: string };

const routeOf = (hash: string): Route => {
  // `#/insight?from=…`: the query belongs to the screen, not to the path.
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const [, screen, arg, more] = path.split('/');
  if (screen === 'insight') return { screen: 'insight', query };
  if (screen === 'admin') return { screen: 'admin' };
  if (screen === 'stations') return { screen: 'stations' };
  if (screen === 'stock') return { screen: 'stock' };
  if (screen === 'desk') return { screen: 'desk', caseId: arg || null };
  if (screen === 'catalogue') return { screen: 'catalogue', code: arg || null };
  if (screen === 'card') return { screen: 'card' };
  if (screen === 'holder') return { screen: 'holder' };
  // `#/replay/case/<caseId>` and `#/replay/flow/<flowId>`: anything else is no replay.
  if (screen === 'replay' && (arg === 'case' || arg === 'flow') && more)
    return { screen: 'replay', kind: arg, id: decodeURIComponent(more) };
  return { screen: 'issuance' };
};

const useRoute = (): Route => {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return routeOf(hash);
};

const FLOW_KEY = 'reservkort.flow';

interface Loaded {
  readonly config: PageConfig;
  readonly ws: Workstation;
  readonly demo: TrainingDemo | null;
}

export const App = () => {
  const { language, setLanguage, t } = useLanguage();
  const route = useRoute();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<PageError | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const [driver, setDriver] = useState<IssuanceDriver | null>(null);
  const [trainingOpen, setTrainingOpen] = useState(false);
  const practice = useMemo(() => new PracticeSession(sessionStorage), []);
  /** Logging out: the session is on its way out, so no flow may be started for it. */
  const [leaving, setLeaving] = useState(false);
  /** The flow the login reserved, for the issuance portal's first flow; used once. */
  const reservation = useRef<FlowReservation | null>(null);

  useEffect(() => {
    let ws: Workstation | null = null;
    void (async () => {
      try {
        const config = await answer<PageConfig>(client.GET('/api/config'));
        setPageAddresses({ agentUrl: config.agentUrl, portalUrl: config.portalUrl ?? null });
        ws = new Workstation(new AgentClient(config.agentUrl));
        const demo = config.training ? await answer<TrainingDemo>(client.GET('/api/training/demo')) : null;
        await ws.start();
        setMe(await currentUser());
        setLoaded({ config, ws, demo });
        setTrainingOpen(config.training);
      } catch (error) {
        setFailure(pageErrorOf(error));
      }
    })();
    return () => ws?.stop();
  }, []);

  const ws = loaded?.ws ?? null;
  useSubscription(ws);
  useSubscription(driver);
  useEffect(() => {
    if (ws) ws.language = language;
  }, [ws, language]);

  // The login card leaving its reader is told to the server when it happens, not at the next click.
  useEffect(() => (ws && me ? reportLoginCardRemoval(ws, () => me) : undefined), [ws, me]);

  // The issuance portal's flow: resumed after a reload, started on first visit.
  useEffect(() => {
    if (
      leaving ||
      ws === null ||
      me === null ||
      me.serviceDesk ||
      route.screen !== 'issuance' ||
      driver !== null
    )
      return;
    const next = new IssuanceDriver(ws);
    setDriver(next);
    const saved = sessionStorage.getItem(FLOW_KEY);
    const reserved = reservation.current;
    reservation.current = null;
    void (saved ? next.resume(saved) : next.start(reserved)).then(() => {
      if (next.error && saved) void next.start();
    });
  }, [leaving, ws, me, route.screen, driver]);
  useEffect(() => {
    if (driver?.flowId) sessionStorage.setItem(FLOW_KEY, driver.flowId);
  });

  // The flow and the session end together. The driver leaves the page's state at once, in the same
  // render as `leaving`: otherwise the effect above would start a new flow for the session being
  // ended, refused once the logout lands, and that driver would outlive it into the next login.
  const endSession = useCallback(async () => {
    const ending = driver;
    setLeaving(true);
    setDriver(null);
    sessionStorage.removeItem(FLOW_KEY);
    ending?.dispose();
    try {
      await ending?.abortForLogout();
      await logout();
    } finally {
      setMe(null);
      setLeaving(false);
    }
    window.location.hash = '#/';
  }, [driver]);

  const whose = useMemo(
    () =>
      (cardNumber: CardNumber | null): string | null => {
        if (cardNumber === null) return null;
        if (me && cardNumber === me.cardNumber) return me.name;
        if (driver?.review?.cardNumber === cardNumber) return driver.review.name;
        const demo = loaded?.demo;
        const admin = demo?.admins.find((a) => a.cardNumber === cardNumber);
        if (admin) return admin.name;
        const reserve = demo?.reserveCards.find((c) => c.cardNumber === cardNumber);
        return reserve?.forPerson ? `${t.readers.role2} → ${reserve.forPerson}` : null;
      },
    [me, driver?.review, loaded?.demo, t],
  );

  const main = () => {
    if (failure) return <ErrorPanel error={failure} />;
    if (loaded === null || ws === null || leaving) return <p aria-busy="true">{t.app.loading}</p>;
    // PIN change and PUK unblock need no login: the card, the agent and the person do it alone.
    if (route.screen === 'card') return <CardToolsScreen ws={ws} agentUrl={loaded.config.agentUrl} />;
    // The holder's own pages have their own session (the reserve card's), whoever else logged in here.
    if (route.screen === 'holder')
      return (
        <HolderPages
          ws={ws}
          agentUrl={loaded.config.agentUrl}
          eidActions={(_eid, context) => (
            <ExtensionAction
              ws={ws}
              agentUrl={loaded.config.agentUrl}
              reload={context.reload}
              loggedOut={context.loggedOut}
              superseded={context.superseded}
            />
          )}
        />
      );
    if (me === null)
      return (
        <LoginScreen
          ws={ws}
          agentUrl={loaded.config.agentUrl}
          reserveFlow={route.screen === 'issuance'}
          onLoggedIn={({ flowReservation, ...next }) => {
            reservation.current = flowReservation ?? null;
            setMe(next);
          }}
        />
      );
    switch (route.screen) {
      case 'admin':
        return <AdminPortal ws={ws} me={me} />;
      case 'stations':
        return <StationAdmin ws={ws} me={me} />;
      case 'stock':
        return <StockScreen ws={ws} me={me} />;
      case 'desk':
        return (
          <ServiceDesk
            caseId={route.caseId}
            practice={loaded.demo ? { ws, demo: loaded.demo, practice } : null}
          />
        );
      case 'catalogue':
        return <CatalogueScreen focusCode={route.code} />;
      case 'insight':
        return <InsightScreen query={route.query} />;
      case 'replay':
        return (
          <ReplayScreen
            key={`${route.kind}/${route.id}`}
            kind={route.kind}
            id={route.id}
            extraActions={
              // A case replayed in training can be practised from the replay as from the case.
              route.kind === 'case' && loaded.demo && me.serviceDesk ? (
                <PracticeButton kit={{ ws, demo: loaded.demo, practice }} caseId={route.id} />
              ) : undefined
            }
          />
        );
      case 'issuance':
        if (me.serviceDesk) return <ServiceDesk caseId={null} />;
        return driver ? (
          <IssuancePortal
            ws={ws}
            driver={driver}
            onLogoutRestart={() => void endSession()}
            agentUrl={loaded.config.agentUrl}
          />
        ) : null;
    }
  };

  // The service desk works cases, not cards: its queue and cases get the whole width. A replay
  // shows the readers as they were, not as they are.
  const readersShown =
    ws !== null &&
    ws.failure === null &&
    !(me && route.screen === 'insight') &&
    !(me?.serviceDesk && (route.screen === 'desk' || route.screen === 'issuance')) &&
    !(me !== null && route.screen === 'replay');

  return (
    <div className={`app${trainingOpen ? ' with-training' : ''}`}>
      <a href="#main" className="skip-link">
        {t.app.skip}
      </a>
      <header className="top">
        <h1>
          {t.app.name}
          {/* A space between the name and the badge: screen readers read the heading as one text. */}
          {loaded?.config.training ? (
            <>
              {' '}
              <span className="badge">{t.app.trainingBadge}</span>
            </>
          ) : null}
        </h1>
        <nav aria-label={t.app.name}>
          <ul>
            {me && !me.serviceDesk && route.screen !== 'holder' ? (
              <>
                <li>
                  <a href="#/issuance" aria-current={route.screen === 'issuance' ? 'page' : undefined}>
                    {t.app.nav.issuance}
                  </a>
                </li>
                <li>
                  <a href="#/admin" aria-current={route.screen === 'admin' ? 'page' : undefined}>
                    {t.app.nav.admin}
                  </a>
                </li>
                <li>
                  <a href="#/stations" aria-current={route.screen === 'stations' ? 'page' : undefined}>
                    {t.app.nav.stations}
                  </a>
                </li>
                <li>
                  <a href="#/stock" aria-current={route.screen === 'stock' ? 'page' : undefined}>
                    {t.app.nav.stock}
                  </a>
                </li>
              </>
            ) : null}
            {me?.serviceDesk && route.screen !== 'holder' ? (
              <li>
                <a href="#/desk" aria-current={route.screen === 'desk' ? 'page' : undefined}>
                  {t.app.nav.desk}
                </a>
              </li>
            ) : null}
            {me && route.screen !== 'holder' ? (
              <li>
                <a href="#/insight" aria-current={route.screen === 'insight' ? 'page' : undefined}>
                  {t.app.nav.insight}
                </a>
              </li>
            ) : null}
            {me?.serviceDesk ? null : (
              <li>
                <a href="#/card" aria-current={route.screen === 'card' ? 'page' : undefined}>
                  {t.app.nav.card}
                </a>
              </li>
            )}
            <li>
              <a href="#/catalogue" aria-current={route.screen === 'catalogue' ? 'page' : undefined}>
                {t.app.nav.catalogue}
              </a>
            </li>
          </ul>
        </nav>
        <div className="session">
          {me && route.screen !== 'holder' ? (
            <span data-testid="logged-in">
              {fill(t.app.loggedInAs, { name: me.name, assurance: me.assuranceLevel })}
            </span>
          ) : null}
          <button
            type="button"
            lang={language === 'sv' ? 'en' : 'sv'}
            onClick={() => setLanguage(language === 'sv' ? 'en' : 'sv')}
            data-action="language"
          >
            {t.app.otherLanguage}
          </button>
          {me && route.screen !== 'holder' ? (
            <button type="button" onClick={() => void endSession()} data-action="logout">
              {t.app.logout}
            </button>
          ) : null}
          {loaded?.config.training && !trainingOpen ? (
            <button type="button" onClick={() => setTrainingOpen(true)} data-action="open-training">
              {t.training.open}
            </button>
          ) : null}
        </div>
      </header>
      <div className={`layout${readersShown ? '' : ' wide'}`}>
        <main id="main" tabIndex={-1}>
          {main()}
        </main>
        {ws && readersShown ? (
          <ReadersPanel ws={ws} whose={whose} roles={route.screen !== 'holder' && route.screen !== 'card'} />
        ) : null}
      </div>
      {loaded?.demo && ws && trainingOpen ? (
        <TrainingPanel
          ws={ws}
          demo={loaded.demo}
          flowId={driver?.flowId ?? null}
          // The case page shows its own practice; elsewhere the panel keeps it in view.
          practice={route.screen === 'desk' ? null : practice}
          onClose={() => setTrainingOpen(false)}
        />
      ) : null}
    </div>
  );
};

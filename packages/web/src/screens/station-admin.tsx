// "Kortstationer": the card stations of the administrator's branches, registering this
// workstation's card agent as one (the agent makes the key and the CSR, the server the
// certificate, the agent keeps it), and revoking one.
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { AgentStation } from '../api/agent-client.js';
import type { paths } from '../api/server-api.js';
import { answer, client } from '../api/server-client.js';
import type { Me } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import type { Workstation } from '../flow/workstation.js';
import { formatDate } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

type StationList = paths['/api/stations/']['get']['responses'][200]['content']['application/json'];
type Registered = paths['/api/stations/']['post']['responses'][201]['content']['application/json'];

export const StationAdmin = ({ ws, me }: { readonly ws: Workstation; readonly me: Me }) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [list, setList] = useState<StationList | null>(null);
  const [own, setOwn] = useState<AgentStation | null>(null);
  const [name, setName] = useState('');
  const [branchId, setBranchId] = useState('');
  const [error, setError] = useState<PageError | null>(null);
  // Kept as what happened, so it reads in the language chosen afterwards too.
  const [notice, setNotice] = useState<{ kind: 'registered' | 'renewed' | 'revoked'; id: string } | null>(
    null,
  );
  const [busy, setBusy] = useState(false);
  useEffect(() => heading.current?.focus(), []);

  const reload = useCallback(async () => {
    const next = await answer<StationList>(client.GET('/api/stations/'));
    setList(next);
    setBranchId((current) => current || (next.branches[0]?.id ?? ''));
    // An agent that keeps no station identity (or none at all) leaves "this workstation" unknown.
    const station = await ws.agent.station().catch(() => null);
    setOwn(station);
    if (station?.name) setName((current) => current || (station.name ?? ''));
  }, [ws]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (me.assuranceLevel !== 'LoA3') return;
    reload().catch((failure: unknown) => setError(pageErrorOf(failure)));
  }, [me, reload]);

  const register = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const { csr } = await ws.agent.stationCsr(name.trim());
      const registered = await answer<Registered>(
        client.POST('/api/stations/', { body: { csr, name: name.trim(), branchId } }),
      );
      await ws.agent.installStationCertificate(registered.certificate);
      await reload();
      setNotice({ kind: registered.renewed ? 'renewed' : 'registered', id: registered.stationId });
    });
  };

  const revoke = (stationId: string) =>
    void run(async () => {
      await answer(client.POST('/api/stations/{stationId}/revoke', { params: { path: { stationId } } }));
      await reload();
      setNotice({ kind: 'revoked', id: stationId });
    });

  const branchName = (id: string) => list?.branches.find((b) => b.id === id)?.name ?? id;
  const ownId = own?.stationId ?? null;

  return (
    <section className="station-admin">
      <h2 ref={heading} tabIndex={-1}>
        {t.stations.title}
      </h2>
      {me.assuranceLevel === 'LoA2' ? <ErrorPanel error={{ code: 'LOA2_LOGIN' }} /> : null}
      <p>{t.stations.intro}</p>
      <p data-testid="this-station">
        {fill(t.stations.thisWorkstation, { status: ownId ?? t.stations.notRegistered })}
      </p>
      <div aria-live="polite">
        {notice ? (
          <p role="status" className="notice">
            {fill(t.stations[notice.kind], { id: notice.id })}
          </p>
        ) : null}
      </div>
      {error ? <ErrorPanel error={error} id="stations-error" /> : null}
      {list ? (
        <>
          <h3>{t.stations.list}</h3>
          {list.stations.length === 0 ? <p>{t.stations.empty}</p> : null}
          {list.stations.length > 0 ? (
            <table className="stations" data-testid="stations">
              <thead>
                <tr>
                  <th scope="col">{t.stations.name}</th>
                  <th scope="col">{t.stations.id}</th>
                  <th scope="col">{t.stations.branch}</th>
                  <th scope="col">{t.stations.status}</th>
                  <th scope="col">{t.stations.validTo}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t.stations.revoke}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.stations.map((station) => (
                  <tr key={station.id} data-station={station.id} data-status={station.status}>
                    <td>
                      {station.name}
                      {station.id === ownId ? ` (${t.stations.thisStation})` : ''}
                    </td>
                    <td>
                      <code>{station.id}</code>
                    </td>
                    <td>{branchName(station.branchId)}</td>
                    <td>{t.stations.statuses[station.status]}</td>
                    <td>{formatDate(station.certificateNotAfter, language)}</td>
                    <td>
                      {station.status === 'active' ? (
                        <button
                          type="button"
                          onClick={() => revoke(station.id)}
                          disabled={busy}
                          data-action="revoke-station"
                          aria-label={`${t.stations.revoke} ${station.name}`}
                        >
                          {t.stations.revoke}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {list.branches.length > 0 ? (
            <form onSubmit={register} className="order-form" aria-labelledby="register-station-title">
              <h3 id="register-station-title">{t.stations.register}</h3>
              <p>{t.stations.registerIntro}</p>
              <label htmlFor="station-name">{t.stations.stationName}</label>
              <input
                id="station-name"
                value={name}
                maxLength={100}
                required
                autoComplete="off"
                onChange={(event) => setName(event.target.value)}
              />
              <label htmlFor="station-branch">{t.stations.branch}</label>
              <select
                id="station-branch"
                value={branchId}
                onChange={(event) => setBranchId(event.target.value)}
              >
                {list.branches.map((branch) => (
                  <option key={branch.id} value={branch.id}>
                    {branch.name}
                  </option>
                ))}
              </select>
              <button type="submit" className="primary" disabled={busy} data-action="register-station">
                {t.stations.registerButton}
              </button>
            </form>
          ) : null}
        </>
      ) : null}
    </section>
  );
};

/**
 * botbuilder's CloudAdapter (through teams-ai's TeamsAdapter), with two
 * changes made through its extension points:
 * - the request is authenticated before the turn runs, so that every
 *   authentication failure, whatever its cause, is answered 401 (stock
 *   CloudAdapter answers 500 for some forged tokens). The checking itself is
 *   botbuilder's own, unweakened;
 * - outbound clients are reused: stock botbuilder builds a new ConnectorClient
 *   (a whole request pipeline) and UserTokenClient on every turn, even for
 *   invokes that never call out.
 */
import type { Activity, InvokeResponse, TurnContext } from 'botbuilder';
import { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js'; // not the index: see app.ts
import {
  BotFrameworkAuthentication,
  ConnectorFactory,
  JwtTokenValidation,
  type AuthenticateRequestResult,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';
import type { BotAuthConfig } from '../config.js';

export class AuthenticationFailed extends Error {
  override name = 'AuthenticationFailed';
}

/** A small bounded cache of promises; a rejected one is forgotten so the next call tries again. */
class PromiseCache<T> {
  private readonly items = new Map<string, Promise<T>>();
  constructor(private readonly max: number) {}
  get(key: string, make: () => Promise<T>): Promise<T> {
    const hit = this.items.get(key);
    if (hit) return hit;
    const p = make();
    p.catch(() => this.items.delete(key));
    if (this.items.size >= this.max) this.items.delete(this.items.keys().next().value as string);
    this.items.set(key, p);
    return p;
  }
}

const appIdOf = (identity: ClaimsIdentity | undefined): string => (identity ? (JwtTokenValidation.getAppIdFromClaims(identity.claims) ?? '') : '');

/** Hands out one ConnectorClient per (app, service URL, audience) instead of one per turn. */
class ReusingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly appId: string,
    private readonly cache: PromiseCache<ConnectorClient>,
    private readonly prepare: (client: ConnectorClient) => ConnectorClient = (c) => c,
  ) {
    super();
  }
  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return this.cache.get(JSON.stringify([this.appId, serviceUrl, audience ?? '']), async () => this.prepare(await this.inner.create(serviceUrl, audience)));
  }
}

/**
 * Proactive sends are retried by our outbox, which holds a lease on the
 * message while it sends. The connector client's own retry policy would wait
 * out a 429's Retry-After inside the send — past the lease, so another
 * instance could send the same message meanwhile — and hide the 429 from the
 * outbox. So the clients used for proactive sends have the pipeline's retry
 * phase removed (core-rest-pipeline's public `removePolicy`); replies within
 * a turn keep it.
 */
function withoutRetries(client: ConnectorClient): ConnectorClient {
  const pipeline = (client as unknown as { client?: { pipeline?: { removePolicy(o: { phase: 'Retry' }): unknown[] } } }).client?.pipeline;
  if (!pipeline) throw new Error('botframework-connector ConnectorClient has no pipeline to remove retries from');
  pipeline.removePolicy({ phase: 'Retry' });
  return client;
}

/** botbuilder's authentication, delegating everything, with its outbound clients reused. */
class ReusingBotFrameworkAuthentication extends BotFrameworkAuthentication {
  private readonly connectors = new PromiseCache<ConnectorClient>(500);
  private readonly proactiveConnectors = new PromiseCache<ConnectorClient>(500);
  private readonly tokenClients = new PromiseCache<UserTokenClient>(50);
  constructor(private readonly inner: BotFrameworkAuthentication) {
    super();
  }
  private reusing(result: AuthenticateRequestResult): AuthenticateRequestResult {
    if (!result.connectorFactory) return result;
    return { ...result, connectorFactory: new ReusingConnectorFactory(result.connectorFactory, appIdOf(result.claimsIdentity), this.connectors) };
  }
  async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    return this.reusing(await this.inner.authenticateRequest(activity, authHeader));
  }
  async authenticateStreamingRequest(authHeader: string, channelIdHeader: string): Promise<AuthenticateRequestResult> {
    return this.reusing(await this.inner.authenticateStreamingRequest(authHeader, channelIdHeader));
  }
  /** Used by continueConversation / createConversation: the proactive path, retried by the outbox. */
  createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return new ReusingConnectorFactory(this.inner.createConnectorFactory(claimsIdentity), appIdOf(claimsIdentity), this.proactiveConnectors, withoutRetries);
  }
  createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.tokenClients.get(appIdOf(claimsIdentity), () => this.inner.createUserTokenClient(claimsIdentity));
  }
  override createBotFrameworkClient() {
    return this.inner.createBotFrameworkClient();
  }
  override getOriginatingAudience(): string {
    return this.inner.getOriginatingAudience();
  }
  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return this.inner.authenticateChannelRequest(authHeader);
  }
}

export class SafeguardAdapter extends TeamsAdapter {
  constructor(botAuth: BotAuthConfig) {
    // Every ConfigurationBotFrameworkAuthentication key from the environment
    // (sovereign clouds, certificate, managed identity) goes to botbuilder as given.
    super({ ...botAuth });
    // CloudAdapterBase keeps its authentication in a protected field; wrap ours in place.
    const self = this as unknown as { botFrameworkAuthentication: BotFrameworkAuthentication };
    self.botFrameworkAuthentication = new ReusingBotFrameworkAuthentication(self.botFrameworkAuthentication);
  }

  /**
   * Authenticates the request (a JWT in the Authorization header, unless
   * running anonymously with no MicrosoftAppId) and runs the turn.
   * Throws AuthenticationFailed for any authentication error.
   */
  async processAuthenticated(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    let auth: AuthenticateRequestResult;
    try {
      auth = await this.botFrameworkAuthentication.authenticateRequest(activity, authHeader);
    } catch (err) {
      throw new AuthenticationFailed((err as Error)?.message ?? 'authentication failed');
    }
    return this.processActivity(auth, activity, logic);
  }
}

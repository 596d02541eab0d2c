/**
 * botbuilder's CloudAdapter (through teams-ai's TeamsAdapter), with the
 * request authenticated before the turn runs so that every authentication
 * failure, whatever its cause, is answered 401 (stock CloudAdapter answers
 * 500 for some forged tokens). The checking itself is botbuilder's own.
 */
import type { Activity, InvokeResponse, TurnContext } from 'botbuilder';
import { TeamsAdapter } from '@microsoft/teams-ai';
import type { BotAuthConfig } from '../config.js';

export class AuthenticationFailed extends Error {
  override name = 'AuthenticationFailed';
}

export class SafeguardAdapter extends TeamsAdapter {
  constructor(botAuth: BotAuthConfig) {
    // Every ConfigurationBotFrameworkAuthentication key from the environment
    // (sovereign clouds, certificate, managed identity) goes to botbuilder as given.
    super({ ...botAuth });
  }

  /**
   * Authenticates the request (a JWT in the Authorization header, unless
   * running anonymously with no MicrosoftAppId) and runs the turn.
   * Throws AuthenticationFailed for any authentication error.
   */
  async processAuthenticated(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    let auth;
    try {
      auth = await this.botFrameworkAuthentication.authenticateRequest(activity, authHeader);
    } catch (err) {
      throw new AuthenticationFailed((err as Error)?.message ?? 'authentication failed');
    }
    return this.processActivity(auth, activity, logic);
  }
}

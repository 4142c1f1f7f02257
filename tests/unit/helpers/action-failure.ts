import { ActionError } from '../../../src/exec/actions.js';

/** The ActionError a run of actions ends with; fails the test when it does not fail that way. */
export async function actionFailure(p: Promise<unknown>): Promise<ActionError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ActionError);
    return e as ActionError;
  }
  throw new Error('expected the actions to fail');
}

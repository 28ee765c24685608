// Add an agent (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function AddAgent() {
  return <ComingSoon title="Add an agent" />;
}

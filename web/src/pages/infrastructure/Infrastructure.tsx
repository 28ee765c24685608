// Infrastructure (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Infrastructure() {
  return <ComingSoon title="Infrastructure" />;
}

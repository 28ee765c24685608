// Runbooks (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Runbooks() {
  return <ComingSoon title="Runbooks" />;
}

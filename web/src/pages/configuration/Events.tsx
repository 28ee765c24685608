// Events (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Events() {
  return <ComingSoon title="Events" />;
}

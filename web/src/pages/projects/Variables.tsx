// Variables (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Variables() {
  return <ComingSoon title="Variables" />;
}

// Library (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Library() {
  return <ComingSoon title="Library" />;
}
